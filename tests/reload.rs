//! Live reload through the real binary: a changed config file, and SIGHUP,
//! put new tenants and rotated credentials in force without a restart; a
//! broken file is refused and the configuration in force keeps working.

mod common;

use common::{
    assert_text_has,
    config_text::{qianyi_tenant, qlink_tenant, server_toml},
    process::{Running, TempDir, client, free_port},
    req, simulator_for, text_at,
};
use qlink_facade::simulator::SimulatorHandle;

/// The qlink account the warehouse takes.
const QLINK_ACCOUNT: [&str; 3] = ["reload-app", "reload-app-secret", "reload-warehouse"];
/// The Qianyi account's id, and the secret key the warehouse takes.
const QIANYI_ACCOUNT: [&str; 2] = ["reload-access", "rotated-secret"];

/// The config file: tenant `t1` (Qianyi, with `t1_secret`), and `t2`
/// (qlink) when `with_t2`.
fn config(
    grpc: u16,
    http: u16,
    simulator: &SimulatorHandle,
    t1_secret: &str,
    with_t2: bool,
) -> String {
    let store = std::env::temp_dir()
        .join(format!("qlink-facade-reload-{}", std::process::id()))
        .join("facade.db");
    let mut text = server_toml(grpc, http, &format!("sqlite://{}", store.display()));
    let [access_id, _] = QIANYI_ACCOUNT;
    text += &qianyi_tenant(
        "t1",
        &simulator.qianyi_endpoint(),
        [access_id, t1_secret],
        "",
    );
    if with_t2 {
        text += &qlink_tenant("t2", &simulator.qlink_base_url(), QLINK_ACCOUNT, "");
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_and_sighup_reload_tenants_and_credentials_and_a_broken_file_is_refused() {
    let simulator = simulator_for(QLINK_ACCOUNT, QIANYI_ACCOUNT).await;
    let dir = TempDir::new("reload");
    let (grpc, http) = (free_port(), free_port());
    // At first the facade signs with a key the warehouse no longer takes.
    let path = dir.write(
        "facade.toml",
        &config(grpc, http, &simulator, "old-secret", false),
    );
    let mut facade = Running::ready_on(&path, &[("RUST_LOG", "info")]);
    let mut warehouses = client(grpc).await;
    let refused = warehouses
        .list_warehouses(req("t1", Default::default()))
        .await
        .expect_err("the old key is refused by the warehouse");
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    let unknown = warehouses
        .list_warehouses(req("t2", Default::default()))
        .await
        .expect_err("no such tenant yet");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    // The rotated key and a new tenant, by editing the file.
    replace_file(
        &path,
        config(grpc, http, &simulator, "rotated-secret", true),
    );
    let line = facade.wait_for("configuration reloaded");
    assert!(
        line.contains("file changed") && line.contains("t2"),
        "{line}"
    );
    simulator.clear_requests();
    warehouses
        .list_warehouses(req("t1", Default::default()))
        .await
        .expect("signed with the rotated key");
    assert!(
        simulator
            .requests()
            .iter()
            .all(|request| request.signature_valid),
        "the warehouse sees the new signature"
    );
    warehouses
        .list_warehouses(req("t2", Default::default()))
        .await
        .expect("the added tenant serves");

    // A broken file: refused, and the configuration in force stays.
    replace_file(&path, "[[tenant]\nid = ");
    facade.wait_for("configuration reload refused");
    warehouses
        .list_warehouses(req("t1", Default::default()))
        .await
        .expect("still served on the configuration in force");

    // SIGHUP reads the file again (fixed meanwhile), here dropping t2.
    replace_file(
        &path,
        config(grpc, http, &simulator, "rotated-secret", false),
    );
    facade.wait_for("configuration reloaded");
    replace_file(
        &path,
        config(grpc, http, &simulator, "rotated-secret", false),
    );
    facade.signal("HUP");
    let line = facade.wait_for("configuration reloaded");
    assert!(line.contains("SIGHUP"), "{line}");
    let gone = warehouses
        .list_warehouses(req("t2", Default::default()))
        .await
        .expect_err("removed");
    assert_eq!(gone.code(), tonic::Code::NotFound);

    let metrics = text_at(&format!("http://127.0.0.1:{http}/metrics")).await;
    assert_text_has(
        &metrics,
        &[
            r#"qlink_facade_config_reloads_total{outcome="ok"} 3"#,
            r#"qlink_facade_config_reloads_total{outcome="refused"} 1"#,
        ],
    );
    drop(warehouses);
    facade.stop_when_idle().await;
}

/// Replaces `path`'s content in one step (a new file renamed over it), as
/// a ConfigMap update does: the facade never reads it half written.
fn replace_file(path: &std::path::Path, content: impl AsRef<[u8]>) {
    let next = path.with_extension("next");
    std::fs::write(&next, content).expect("write");
    std::fs::rename(&next, path).expect("rename");
}
