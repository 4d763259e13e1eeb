//! The identities a client certificate names: its DNS subject alternative
//! names or, when it has none, its subject's common name; what a tenant's
//! `client_identities` are matched against.
//!
//! The certificate has been verified against `client_ca` by the time this
//! reads it, so it is well-formed DER; a part this cannot read still gives
//! no identity rather than an error or a panic.

/// The OID 2.5.29.17, subjectAltName, as DER content bytes.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// The OID 2.5.4.3, commonName.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
/// `[0] EXPLICIT` version in a TBSCertificate.
const VERSION: u8 = 0xa0;
/// `[3] EXPLICIT` extensions in a TBSCertificate.
const EXTENSIONS: u8 = 0xa3;
/// `dNSName [2] IA5String` in GeneralNames.
const DNS_NAME: u8 = 0x82;

/// The names `certificate` (DER) vouches for, lowercased: its DNS SANs, or
/// its CN when it has no DNS SAN.
pub fn certificate_names(certificate: &[u8]) -> Vec<String> {
    let Some(tbs) = tbs_certificate(certificate) else {
        return Vec::new();
    };
    let dns_names = subject_alt_dns_names(&tbs);
    if !dns_names.is_empty() {
        return dns_names;
    }
    tbs.subject
        .and_then(common_name)
        .map(|name| vec![name])
        .unwrap_or_default()
}

/// The parts of a TBSCertificate this reads.
struct Tbs<'a> {
    subject: Option<&'a [u8]>,
    extensions: Option<&'a [u8]>,
}

fn tbs_certificate(certificate: &[u8]) -> Option<Tbs<'_>> {
    let (certificate, _) = expect(SEQUENCE, certificate)?;
    let (tbs, _) = expect(SEQUENCE, certificate)?;
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serialNumber, signature, issuer, validity.
    for _ in 0..4 {
        rest = element(rest)?.2;
    }
    let (subject, after_subject) = expect(SEQUENCE, rest)?;
    // subjectPublicKeyInfo, then optional unique ids and the extensions.
    let mut rest = element(after_subject)?.2;
    let mut extensions = None;
    while let Some((tag, content, after)) = element(rest) {
        if tag == EXTENSIONS {
            extensions = Some(content);
        }
        rest = after;
    }
    Some(Tbs {
        subject: Some(subject),
        extensions,
    })
}

fn subject_alt_dns_names(tbs: &Tbs<'_>) -> Vec<String> {
    let Some((extensions, _)) = tbs.extensions.and_then(|outer| expect(SEQUENCE, outer)) else {
        return Vec::new();
    };
    let alt_names = each(SEQUENCE, extensions).filter_map(|ext| keyed(SUBJECT_ALT_NAME, ext));
    let mut names = Vec::new();
    for mut rest in alt_names {
        // `critical BOOLEAN DEFAULT FALSE` may stand before the value.
        let value = loop {
            match element(rest) {
                Some((OCTET_STRING, value, _)) => break Some(value),
                Some((_, _, after)) => rest = after,
                None => break None,
            }
        };
        let Some((mut general_names, _)) = value.and_then(|value| expect(SEQUENCE, value)) else {
            continue;
        };
        while let Some((tag, name, after)) = element(general_names) {
            general_names = after;
            if tag == DNS_NAME
                && let Ok(name) = std::str::from_utf8(name)
            {
                names.push(name.to_ascii_lowercase());
            }
        }
    }
    names
}

/// The first CN in a Name (`SEQUENCE OF SET OF AttributeTypeAndValue`).
fn common_name(name: &[u8]) -> Option<String> {
    let rest = each(SET, name)
        .flat_map(|set| each(SEQUENCE, set))
        .find_map(|attribute| keyed(COMMON_NAME, attribute))?;
    // UTF8String, PrintableString, IA5String, …: the bytes are the text.
    let (_, value, _) = element(rest)?;
    std::str::from_utf8(value)
        .ok()
        .map(|text| text.to_ascii_lowercase())
}

/// The contents of the elements tagged `tag` that `input` starts with,
/// one after another.
fn each(tag: u8, mut input: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (content, rest) = expect(tag, input)?;
        input = rest;
        Some(content)
    })
}

/// What follows the OID an `element` starts with (an extension, an
/// AttributeTypeAndValue), when that OID is `oid`.
fn keyed<'a>(oid: &[u8], element: &'a [u8]) -> Option<&'a [u8]> {
    let (found, rest) = expect(OID, element)?;
    (found == oid).then_some(rest)
}

/// `(content, rest)` when `input` starts with an element tagged `tag`.
fn expect(tag: u8, input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (found, content, rest) = element(input)?;
    (found == tag).then_some((content, rest))
}

/// The first DER element of `input`: `(tag, content, rest)`. Tags above 30
/// (several bytes) are not read: X.509 uses none.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let octets = usize::from(first & 0x7f);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let (bytes, rest) = rest.split_at(octets);
        let length = bytes
            .iter()
            .fold(0usize, |length, byte| length << 8 | usize::from(*byte));
        (length, rest)
    };
    if rest.len() < length {
        return None;
    }
    let (content, rest) = rest.split_at(length);
    Some((tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::certificate_names;

    fn certificate(params: rcgen::CertificateParams) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("sign").der().to_vec()
    }

    #[test]
    fn dns_subject_alt_names_are_the_identities() {
        let params = rcgen::CertificateParams::new(vec![
            "Billing.svc.example.com".to_owned(),
            "billing.internal".to_owned(),
        ])
        .expect("params");
        assert_eq!(
            certificate_names(&certificate(params)),
            ["billing.svc.example.com", "billing.internal"]
        );
    }

    #[test]
    fn without_a_dns_name_the_common_name_is() {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Reports-Job");
        params.subject_alt_names = vec![rcgen::SanType::IpAddress([10, 0, 0, 1].into())];
        assert_eq!(certificate_names(&certificate(params)), ["reports-job"]);
    }

    #[test]
    fn a_common_name_does_not_count_beside_dns_names() {
        let mut params =
            rcgen::CertificateParams::new(vec!["a.example.com".to_owned()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "b.example.com");
        assert_eq!(certificate_names(&certificate(params)), ["a.example.com"]);
    }

    #[test]
    fn garbage_names_nobody() {
        assert!(certificate_names(b"").is_empty());
        assert!(certificate_names(&[0x30, 0x82, 0xff]).is_empty());
        assert!(certificate_names(&[0x30, 0x03, 0x30, 0x01, 0x02]).is_empty());
        let real = certificate(
            rcgen::CertificateParams::new(vec!["x.example.com".to_owned()]).expect("params"),
        );
        for cut in [1, 10, real.len() / 2, real.len() - 1] {
            // Whatever is left must not panic; a cut certificate may still
            // name nothing or what its intact prefix holds.
            let _ = certificate_names(&real[..cut]);
        }
    }
}
