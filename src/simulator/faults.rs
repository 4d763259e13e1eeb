//! Injected faults: rules that make the simulator misbehave on purpose
//! (outages, rate limits, slowness, garbage, signature and business
//! rejections), set from Rust or over the control API as flat JSON.
//!
//! A rule is checked on every protocol request after it is recorded and
//! before its signature is verified, so a fault fires whatever the caller's
//! credentials. The first matching rule fires and, when limited, uses up one
//! of its `times`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultSpec", into = "FaultSpec")]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// Only this qlink operation or Qianyi method (e.g. "createOrder"); None = all.
    pub operation: Option<String>,
    /// Only requests whose business JSON has this `warehouseCode`; None = all.
    pub warehouse_code: Option<String>,
    /// How many requests it hits before it goes away; None = until cleared.
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on every request until cleared.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            operation: None,
            warehouse_code: None,
            times: None,
        }
    }

    /// Only on this operation (qlink path op or Qianyi method).
    pub fn on(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Only on requests for this warehouse code.
    pub fn in_warehouse(mut self, warehouse_code: impl Into<String>) -> Self {
        self.warehouse_code = Some(warehouse_code.into());
        self
    }

    /// Only the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn matches(&self, operation: &str, warehouse_code: Option<&str>) -> bool {
        let operation_matches = self
            .operation
            .as_deref()
            .is_none_or(|wanted| wanted.trim().eq_ignore_ascii_case(operation));
        let warehouse_matches = self
            .warehouse_code
            .as_deref()
            .is_none_or(|wanted| Some(wanted.trim()) == warehouse_code);
        operation_matches && warehouse_matches
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultSpec", into = "FaultSpec")]
pub enum FaultKind {
    /// Answers this HTTP status with `{"success":false,"errorMsg":"simulated outage"}`;
    /// 429 adds `Retry-After: 1`.
    HttpStatus(u16),
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// HTTP 200 with a body that is not JSON.
    MalformedJson,
    /// Answers as if the signature were wrong.
    BadSignature,
    /// The protocol's business rejection with these words: qlink writes
    /// (createOrder, createAsnOrder, insertSkuInfo, cancelOrder,
    /// cancelAsnOrder) reject their items (`result.success:false`, `info`),
    /// qlink reads fail the envelope (`errorMsg`, code `BIZ_ERROR`), Qianyi
    /// answers `"success":"false"` with the words in `message`.
    Reject(String),
}

/// The flat JSON form of a fault,
/// `{"kind":"http_status","status":503,"operation":"createOrder","times":1}`,
/// and of a fault kind alone (`{"kind":"delay","delay_ms":500}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, alias = "delayMs", skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, alias = "method", skip_serializing_if = "Option::is_none")]
    operation: Option<String>,
    #[serde(
        default,
        alias = "warehouseCode",
        skip_serializing_if = "Option::is_none"
    )]
    warehouse_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
}

impl TryFrom<FaultSpec> for FaultKind {
    type Error = String;

    fn try_from(spec: FaultSpec) -> Result<Self, Self::Error> {
        match spec
            .kind
            .trim()
            .to_ascii_lowercase()
            .replace('-', "_")
            .as_str()
        {
            "http_status" | "status" => {
                let status = spec
                    .status
                    .ok_or("kind http_status needs a status, e.g. 503")?;
                if !(100..=599).contains(&status) {
                    return Err(format!("status {status} is not an HTTP status"));
                }
                Ok(Self::HttpStatus(status))
            }
            "delay" => {
                let millis = spec.delay_ms.ok_or("kind delay needs delay_ms")?;
                Ok(Self::Delay(Duration::from_millis(millis)))
            }
            "malformed_json" | "malformed" => Ok(Self::MalformedJson),
            "bad_signature" | "bad_sign" => Ok(Self::BadSignature),
            "reject" => Ok(Self::Reject(
                spec.message
                    .filter(|words| !words.trim().is_empty())
                    .unwrap_or_else(|| "simulated rejection".to_owned()),
            )),
            other => Err(format!(
                "unknown fault kind {other:?}: expected http_status, delay, malformed_json, bad_signature or reject"
            )),
        }
    }
}

impl From<FaultKind> for FaultSpec {
    fn from(kind: FaultKind) -> Self {
        let mut spec = Self::default();
        match kind {
            FaultKind::HttpStatus(status) => {
                spec.kind = "http_status".to_owned();
                spec.status = Some(status);
            }
            FaultKind::Delay(delay) => {
                spec.kind = "delay".to_owned();
                spec.delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
            }
            FaultKind::MalformedJson => spec.kind = "malformed_json".to_owned(),
            FaultKind::BadSignature => spec.kind = "bad_signature".to_owned(),
            FaultKind::Reject(message) => {
                spec.kind = "reject".to_owned();
                spec.message = Some(message);
            }
        }
        spec
    }
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;

    fn try_from(mut spec: FaultSpec) -> Result<Self, Self::Error> {
        let non_empty = |text: Option<String>| text.filter(|text| !text.trim().is_empty());
        let (operation, warehouse_code) = (spec.operation.take(), spec.warehouse_code.take());
        let times = spec.times;
        Ok(Self {
            kind: FaultKind::try_from(spec)?,
            operation: non_empty(operation),
            warehouse_code: non_empty(warehouse_code),
            times,
        })
    }
}

impl From<Fault> for FaultSpec {
    fn from(fault: Fault) -> Self {
        Self {
            operation: fault.operation,
            warehouse_code: fault.warehouse_code,
            times: fault.times,
            ..Self::from(fault.kind)
        }
    }
}

/// The active rules, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct FaultRules {
    rules: Vec<Fault>,
}

impl FaultRules {
    pub(crate) fn add(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.rules.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.rules.clone()
    }

    /// Fires the first rule matching this request, using up one of its times.
    pub(crate) fn fire(
        &mut self,
        operation: &str,
        warehouse_code: Option<&str>,
    ) -> Option<FaultKind> {
        let index = self
            .rules
            .iter()
            .position(|rule| rule.matches(operation, warehouse_code))?;
        let rule = &mut self.rules[index];
        let kind = rule.kind.clone();
        if let Some(times) = rule.times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.rules.remove(index);
            }
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_json_round_trip() {
        let fault: Fault = serde_json::from_str(
            r#"{"kind":"http_status","status":503,"operation":"createOrder","warehouse_code":"TU01","times":2}"#,
        )
        .unwrap();
        assert_eq!(
            fault,
            Fault::new(FaultKind::HttpStatus(503))
                .on("createOrder")
                .in_warehouse("TU01")
                .times(2)
        );
        let back: Fault = serde_json::from_value(serde_json::to_value(&fault).unwrap()).unwrap();
        assert_eq!(back, fault);

        let delay: Fault = serde_json::from_str(r#"{"kind":"delay","delay_ms":250}"#).unwrap();
        assert_eq!(delay.kind, FaultKind::Delay(Duration::from_millis(250)));
        let reject: Fault =
            serde_json::from_str(r#"{"kind":"reject","message":"no stock"}"#).unwrap();
        assert_eq!(reject.kind, FaultKind::Reject("no stock".into()));
        let kind: FaultKind = serde_json::from_str(r#"{"kind":"malformed_json"}"#).unwrap();
        assert_eq!(kind, FaultKind::MalformedJson);

        for bad in [
            r#"{"kind":"http_status"}"#,
            r#"{"kind":"http_status","status":42}"#,
            r#"{"kind":"delay"}"#,
            r#"{"kind":"explode"}"#,
            r#"{"kind":"reject","warehouse":"TU01"}"#,
        ] {
            assert!(serde_json::from_str::<Fault>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn first_match_fires_and_times_run_out() {
        let mut rules = FaultRules::default();
        rules.add(Fault::new(FaultKind::BadSignature).on("getOrder").times(1));
        rules.add(
            Fault::new(FaultKind::HttpStatus(503))
                .in_warehouse("CA2")
                .times(2),
        );
        rules.add(Fault::new(FaultKind::MalformedJson).times(0)); // never fires
        assert_eq!(rules.fire("createOrder", Some("CA1")), None);
        assert_eq!(rules.fire("getorder", None), Some(FaultKind::BadSignature));
        assert_eq!(rules.fire("getOrder", None), None);
        assert_eq!(
            rules.fire("getOrder", Some("CA2")),
            Some(FaultKind::HttpStatus(503))
        );
        assert_eq!(
            rules.fire("createOrder", Some("CA2")),
            Some(FaultKind::HttpStatus(503))
        );
        assert_eq!(rules.fire("createOrder", Some("CA2")), None);
        assert!(rules.list().is_empty());
    }
}
