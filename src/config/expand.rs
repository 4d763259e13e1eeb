//! `${NAME}` and `${file:PATH}` in configuration values: where secrets come
//! from, so the file itself need hold none.

use super::Env;

/// Replaces every `${NAME}` with the environment variable's value, and
/// every `${file:PATH}` with the file's content (its last line break
/// dropped): a Kubernetes Secret mounted as files can then be rotated
/// without a restart, since a reload reads the files again.
pub(super) fn expand(text: &str, env: Env) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("unclosed ${ in value".into());
        };
        let name = &after[..end];
        if name.is_empty() {
            return Err("empty ${} in value".into());
        }
        if let Some(path) = name.strip_prefix("file:") {
            let content = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read secret file {path}: {err}"))?;
            let content = content.strip_suffix('\n').unwrap_or(&content);
            out.push_str(content.strip_suffix('\r').unwrap_or(content));
        } else {
            match env(name) {
                Some(value) => out.push_str(&value),
                None => return Err(format!("environment variable {name} is not set")),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The files a config text reads with `${file:PATH}`, for the reload to
/// watch.
pub fn referenced_files(text: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${file:") {
        let after = &rest[start + "${file:".len()..];
        let Some(end) = after.find('}') else { break };
        files.push(std::path::PathBuf::from(&after[..end]));
        rest = &after[end + 1..];
    }
    files
}
