//! The simulator over real HTTP, as the protocol clients (and other teams)
//! see it: signed with the shared signing functions, sent with reqwest.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use warehouse_protocol::sign::{qianyi_sign, qlink_sign};

const APP_KEY: &str = "demo-app-key";
const APP_SECRET: &str = "demo-app-secret";
const WAREHOUSE_KEY: &str = "demo-warehouse-key";
const ACCESS_ID: &str = "demo-access-id";
const SECRET_KEY: &str = "demo-secret-key";

/// 25 generated SKUs plus the 14 of the specs' examples.
const SKUS_PER_WAREHOUSE: usize = 25 + 14;

fn quick_config() -> SimulatorConfig {
    SimulatorConfig {
        ship_after: Duration::from_millis(200),
        receive_after: Duration::from_millis(150),
        inventory_skus: 25,
        ..SimulatorConfig::default()
    }
}

struct Sim {
    handle: SimulatorHandle,
    http: reqwest::Client,
}

async fn sim() -> Sim {
    sim_with(quick_config()).await
}

async fn sim_with(config: SimulatorConfig) -> Sim {
    let handle = SimulatorHandle::spawn(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawn simulator");
    Sim {
        handle,
        http: http_client(),
    }
}

fn http_client() -> reqwest::Client {
    // reqwest is built without a TLS provider; plain http still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

/// An answer: HTTP status, Retry-After, raw body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

impl Sim {
    async fn post(&self, url: String, headers: &[(&str, &str)], body: String) -> Answer {
        let mut request = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap_or_default().to_owned());
        let body = response.text().await.expect("body");
        Answer {
            status,
            retry_after,
            body,
        }
    }

    /// A qlink call with `sign` as given.
    /// initWarehouses with `body` as sent, under these credentials.
    async fn warehouses_as(&self, app_key: &str, sign: &str, body: &str) -> Value {
        let answer = self.qlink_raw("initWarehouses", app_key, sign, body).await;
        answer.json()
    }

    async fn qlink_raw(&self, op: &str, app_key: &str, sign: &str, body: &str) -> Answer {
        let url = format!(
            "{}/global-api/v1/warehouse/{op}",
            self.handle.qlink_base_url()
        );
        let headers = [
            ("appKey", app_key),
            ("sign", sign),
            ("warehouseType", "LINGXING"),
        ];
        self.post(url, &headers, body.to_owned()).await
    }

    /// A correctly signed qlink call; `warehouseKey` is added to `body`.
    async fn qlink(&self, op: &str, mut body: Value) -> Answer {
        body["warehouseKey"] = json!(WAREHOUSE_KEY);
        let body = body.to_string();
        let sign = qlink_sign(APP_KEY, &body, APP_SECRET);
        self.qlink_raw(op, APP_KEY, &sign, &body).await
    }

    /// The `result` of a successful qlink call.
    async fn qlink_ok(&self, op: &str, body: Value) -> Value {
        let answer = self.qlink(op, body).await.json();
        assert_eq!(answer["success"], json!(true), "{op}: {answer}");
        assert_eq!(answer["errorMsg"], Value::Null, "{op}: {answer}");
        answer["result"].clone()
    }

    /// A correctly signed Qianyi call with this content text.
    async fn qianyi_text(&self, method: &str, content: &str) -> Answer {
        let body = json!({
            "accessId": ACCESS_ID,
            "method": method,
            "content": content,
            "sign": qianyi_sign(ACCESS_ID, content, SECRET_KEY),
        });
        self.post(self.handle.qianyi_endpoint(), &[], body.to_string())
            .await
    }

    async fn qianyi(&self, method: &str, content: Value) -> Value {
        self.qianyi_text(method, &content.to_string()).await.json()
    }

    /// POSTs `body` to the control endpoint `path`.
    async fn configure(&self, path: &str, body: Value) -> Answer {
        self.control(reqwest::Method::POST, path, Some(body)).await
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let url = format!("{}/_simulator/{path}", self.handle.qlink_base_url());
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("send");
        Answer {
            status: response.status().as_u16(),
            retry_after: None,
            body: response.text().await.expect("body"),
        }
    }
}

fn order(number: &str, warehouse: &str, sku: &str) -> Value {
    json!({
        "warehouseCode": warehouse, "orderNumber": number, "onlineOrderId": number,
        "logisticsCode": "UPS-1", "codEnabled": 0, "shopName": "测试店铺", "platform": "SHEIN",
        "freight": 0.0,
        "skuList": [{"amount": 0.0, "quantity": "2", "name": "Side table", "sku": sku, "erpSku": sku}],
        "receiver": {"country": "US", "phone": "1", "city": "Harrison", "address1": "1 Test St",
                     "postalCode": "72601", "name": "Kim", "state": "AR", "email": ""},
    })
}

/// A Qianyi SKU's sellable quantity (a string on the wire).
async fn sellable(sim: &Sim, warehouse: &str, sku: &str) -> i64 {
    let request =
        json!({"warehouseCode": warehouse, "warehouseSku": sku, "page": 1, "pageSize": 50});
    let answer = sim.qianyi("syncInventory", request).await;
    let quantity = answer["data"][0]["sellableQuantity"]
        .as_str()
        .expect("quantity as a string");
    quantity.parse().expect("a number")
}

async fn wait_until<F, Fut>(limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn qlink_signed_request_is_accepted_and_recorded() {
    let sim = sim().await;
    let result = sim.qlink_ok("initWarehouses", json!({})).await;
    let list = result["warehouseInfoList"]
        .as_array()
        .expect("warehouseInfoList");
    let codes: Vec<&str> = list
        .iter()
        .map(|wh| wh["warehouseCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TU01", "TU02", "TU03"]);
    assert_eq!(list[0]["warehouseName"], "TU美东代理仓");

    // warehouseKey as an array, as the initWarehouses example sends it.
    let body = json!({"warehouseKey": [WAREHOUSE_KEY], "warehouseCode": "TU02"}).to_string();
    let answer = sim
        .qlink_raw(
            "initChannels",
            APP_KEY,
            &qlink_sign(APP_KEY, &body, APP_SECRET),
            &body,
        )
        .await
        .json();
    let channels = answer["result"]["channelList"]
        .as_array()
        .expect("channelList");
    assert!(
        channels
            .iter()
            .any(|c| c["channelCode"] == "UPS-1" && c["carrierName"] == "UPS")
    );
    assert!(channels.iter().all(|c| c["warehouseCode"] == "TU02"));

    let requests = sim.handle.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].protocol, Protocol::Qlink);
    assert_eq!(requests[0].operation, "initWarehouses");
    assert!(requests[0].signature_valid);
    assert_eq!(requests[0].header("appKey"), Some(APP_KEY));
    assert_eq!(requests[1].body, body);
    assert_eq!(requests[1].content, body);
    sim.handle.clear_requests();
    assert!(sim.handle.requests().is_empty());
}

#[tokio::test]
async fn qlink_bad_credentials_are_rejected() {
    let sim = sim().await;
    let body = json!({"warehouseKey": WAREHOUSE_KEY}).to_string();

    let bad_sign = sim
        .qlink_raw("initWarehouses", APP_KEY, "0123abcd", &body)
        .await;
    assert_eq!(bad_sign.status, 200);
    let answer = bad_sign.json();
    assert_eq!(answer["success"], json!(false));
    assert_eq!(answer["errorMsg"], "sign verification failed");
    assert_eq!(answer["code"], "SIGN_ERROR");
    assert_eq!(answer["result"], Value::Null);

    // Signed with another secret.
    let wrong_secret = qlink_sign(APP_KEY, &body, "not-the-secret");
    let answer = sim.warehouses_as(APP_KEY, &wrong_secret, &body).await;
    assert_eq!(answer["code"], "SIGN_ERROR");

    let unknown_key = qlink_sign("who", &body, APP_SECRET);
    let answer = sim.warehouses_as("who", &unknown_key, &body).await;
    assert_eq!(answer["success"], json!(false));
    assert!(answer["errorMsg"].as_str().unwrap().contains("appKey"));

    let other_warehouse = json!({"warehouseKey": ["someone-else"]}).to_string();
    let sign = qlink_sign(APP_KEY, &other_warehouse, APP_SECRET);
    let answer = sim.warehouses_as(APP_KEY, &sign, &other_warehouse).await;
    assert_eq!(answer["code"], "WAREHOUSE_KEY_ERROR");

    let no_key = json!({}).to_string();
    let sign = qlink_sign(APP_KEY, &no_key, APP_SECRET);
    let answer = sim.warehouses_as(APP_KEY, &sign, &no_key).await;
    assert_eq!(answer["errorMsg"], "missing required field warehouseKey");

    let unknown_op = sim.qlink("explode", json!({})).await;
    assert_eq!(unknown_op.status, 404);
    assert_eq!(unknown_op.json()["success"], json!(false));

    let recorded = sim.handle.requests();
    assert_eq!(recorded.len(), 6);
    assert!(!recorded[0].signature_valid && !recorded[1].signature_valid);
    assert!(!recorded[2].signature_valid);
    assert!(
        recorded[3].signature_valid,
        "the signature was fine, the warehouseKey was not"
    );
}

#[tokio::test]
async fn qianyi_signatures_and_tolerant_reading() {
    let sim = sim().await;
    let answer = sim.qianyi_text("warehouses", "").await.json();
    assert_eq!(answer["success"], "true");
    assert_eq!(answer["message"], "");
    assert_eq!(answer["warehouseList"][1]["warehouseCode"], "CA2");
    assert_eq!(
        answer["warehouseList"][1]["warehouseName"],
        "CA Warehouse 2"
    );

    // A method with a leading space and keys with trailing spaces, as the
    // spec's examples send them; numbers as strings.
    let content = r#" {"pageSize ":"5","page ":"1","warehouseCode":"CA1"}"#;
    let answer = sim.qianyi_text(" syncInventory", content).await.json();
    assert_eq!(answer["success"], "true", "{answer}");
    assert_eq!(answer["data"].as_array().unwrap().len(), 5);
    assert_eq!(sim.handle.requests()[1].operation, "syncInventory");
    assert_eq!(sim.handle.requests()[1].content, content);

    let body =
        json!({"accessId": ACCESS_ID, "method": "warehouses", "content": "", "sign": "nope"});
    let answer = sim
        .post(sim.handle.qianyi_endpoint(), &[], body.to_string())
        .await
        .json();
    assert_eq!(
        answer,
        json!({"success": "false", "message": "sign verification failed"})
    );
    assert!(!sim.handle.requests()[2].signature_valid);

    // `POST /` is the same endpoint.
    let body = json!({"accessId": "stranger", "method": "warehouses", "content": "",
                      "sign": qianyi_sign("stranger", "", SECRET_KEY)});
    let answer = sim
        .post(sim.handle.qlink_base_url() + "/", &[], body.to_string())
        .await
        .json();
    assert_eq!(answer["success"], "false");
    assert_eq!(answer["message"], "unknown accessId stranger");

    let answer = sim.qianyi("explode", json!({})).await;
    assert_eq!(answer["message"], "unknown method explode");
    let answer = sim.qianyi_text("getOrder", "{not json").await.json();
    assert_eq!(answer["success"], "false");
}

#[tokio::test]
async fn qlink_order_lifecycle() {
    let sim = sim().await;
    let created = sim
        .qlink_ok("createOrder", order("SO-1", "TU02", "SKU1"))
        .await;
    assert_eq!(created["success"], json!(true), "{created}");
    assert_eq!(created["orderNumber"], "SO-1");
    let number = created["warehouseOrderNumber"].as_str().unwrap_or_default();
    assert!(number.starts_with("OBS"), "{number}");

    // A second create of the same order number is refused: no double shipping.
    let duplicate = sim
        .qlink_ok("createOrder", order("SO-1", "TU02", "SKU1"))
        .await;
    assert_eq!(duplicate["success"], json!(false));
    assert!(
        duplicate["info"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{duplicate}"
    );

    let mut missing = order("SO-X", "TU02", "SKU1");
    missing.as_object_mut().unwrap().remove("orderNumber");
    let rejected = sim.qlink_ok("createOrder", missing).await;
    assert_eq!(rejected["info"], "missing required field orderNumber");
    let rejected = sim
        .qlink_ok("createOrder", order("SO-W", "NOWHERE", "SKU1"))
        .await;
    assert_eq!(rejected["success"], json!(false));

    // Unknown SKU: created, then FAILED naming the SKU.
    let created = sim
        .qlink_ok("createOrder", order("SO-2", "TU02", "NO-SUCH-SKU"))
        .await;
    assert_eq!(created["success"], json!(true));
    sim.qlink_ok("createOrder", order("SO-3", "TU02", "SKU2"))
        .await;

    let request = json!({"warehouseCode": "TU02", "page": 1, "pageSize": 10,
                                           "warehouseSkuList": [{"warehouseSku": "SKU1"}]});
    let stock = sim.qlink_ok("syncInventory", request).await;
    assert_eq!(
        stock[0]["sellableQuantity"], "107",
        "two of SKU1's 109 are reserved"
    );
    assert_eq!(stock[0]["reservedQuantity"], "2");

    let get = json!({"warehouseCode": "TU02", "getOrderInfoList": [
        {"orderNumber": "SO-1"}, {"orderNumber": "SO-2"}, {"orderNumber": "SO-404"}]});
    let list = sim.qlink_ok("getOrder", get.clone()).await["warehouseGetOrderList"].clone();
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "unknown orders are left out: {list}"
    );
    assert_eq!(list[0]["status"], "SENDING");
    assert_eq!(list[0]["wmsStatus"], "0");
    assert_eq!(list[1]["status"], "FAILED");
    assert!(
        list[1]["failedReason"]
            .as_str()
            .unwrap()
            .contains("NO-SUCH-SKU")
    );

    let cancel = json!({"cancelOrderList": [{"orderNumber": "SO-3"}, {"orderNumber": "SO-404"}]});
    let results = sim.qlink_ok("cancelOrder", cancel).await["results"].clone();
    assert_eq!(
        results[0],
        json!({"orderNumber": "SO-3", "success": true, "info": ""})
    );
    assert_eq!(results[1]["success"], json!(false));

    wait_until(Duration::from_secs(5), || async {
        let list = sim.qlink_ok("getOrder", get.clone()).await["warehouseGetOrderList"].clone();
        list[0]["status"] == "SUCCESS"
    })
    .await;
    let list = sim
        .qlink_ok(
            "getOrder",
            json!({"getOrderInfoList": [
        {"orderNumber": "SO-1"}, {"orderNumber": "SO-3"}]}),
        )
        .await["warehouseGetOrderList"]
        .clone();
    assert_eq!(list[0]["wmsStatus"], "Shipped");
    assert_eq!(list[0]["carrierName"], "UPS");
    assert!(!list[0]["trackingNumber"].as_str().unwrap().is_empty());
    assert_eq!(list[1]["status"], "CANCEL");

    let results = sim
        .qlink_ok(
            "cancelOrder",
            json!({"cancelOrderList": [{"orderNumber": "SO-1"}]}),
        )
        .await["results"]
        .clone();
    assert_eq!(results[0]["success"], json!(false));
    assert_eq!(results[0]["info"], "order already shipped");
}

#[tokio::test]
async fn qianyi_order_lifecycle_one_order_per_call() {
    let sim = sim().await;
    let first = order("QO-1", "CA1", "SIM-SKU-00003");
    let created = sim.qianyi("createOrder", first.clone()).await;
    assert_eq!(created["success"], "true", "{created}");
    assert!(created["data"]["warehouseOrderNumber"].as_str().is_some());
    let duplicate = sim.qianyi("createOrder", first).await;
    assert_eq!(duplicate["success"], "false");
    let words = duplicate["message"].as_str().unwrap_or_default();
    assert!(words.contains("already exists"), "{words}");

    let mut no_lines = order("QO-2", "CA1", "SKU1");
    no_lines["skuList"] = json!([]);
    let rejected = sim.qianyi("createOrder", no_lines).await;
    assert_eq!(rejected["message"], "missing required field skuList");

    let state = sim.qianyi("getOrder", json!({"orderNumber": "QO-1"})).await;
    assert_eq!(state["success"], "true");
    assert_eq!(state["data"]["status"], "SENDING");
    let unknown = sim
        .qianyi("getOrder", json!({"orderNumber": "QO-404"}))
        .await;
    assert_eq!(unknown["success"], "false");
    assert!(unknown["message"].as_str().unwrap().contains("QO-404"));

    sim.qianyi("createOrder", order("QO-3", "CA2", "SKU2"))
        .await;
    let cancelled = sim
        .qianyi("cancelOrder", json!({"orderNumber": "QO-3"}))
        .await;
    assert_eq!(cancelled, json!({"success": "true", "message": ""}));

    tokio::time::sleep(Duration::from_millis(250)).await;
    let state = sim.qianyi("getOrder", json!({"orderNumber": "QO-1"})).await;
    assert_eq!(state["data"]["status"], "SUCCESS");
    assert_eq!(state["data"]["wmsStatus"], "Shipped");
    assert!(!state["data"]["trackingNumber"].as_str().unwrap().is_empty());
    let too_late = sim
        .qianyi("cancelOrder", json!({"orderNumber": "QO-1"}))
        .await;
    assert_eq!(too_late["success"], "false");
    assert_eq!(too_late["message"], "order already shipped");
    let state = sim.qianyi("getOrder", json!({"orderNumber": "QO-3"})).await;
    assert_eq!(state["data"]["status"], "CANCEL");
}

#[tokio::test]
async fn asn_lifecycle_fills_the_stock() {
    let sim = sim().await;
    let before = sellable(&sim, "CA1", "SIM-SKU-00002").await;
    let asn = |number: &str| {
        json!({"asnNumber": number, "warehouseCode": "CA1",
               "skuList": [{"sku": "SIM-SKU-00002", "name": "Cup", "quantity": 10}]})
    };
    let created = sim.qianyi("createAsnOrder", asn("A-1")).await;
    assert_eq!(created["success"], "true", "{created}");
    assert_eq!(
        created["results"][0],
        json!({"asnNumber": "A-1", "operation": "CREATE", "info": ""})
    );
    assert!(!created["data"]["wmsAsnNumber"].as_str().unwrap().is_empty());
    let duplicate = sim.qianyi("createAsnOrder", asn("A-1")).await;
    assert_eq!(duplicate["success"], "false");
    sim.qianyi("createAsnOrder", asn("A-2")).await;

    let cancelled = sim
        .qianyi("cancelAsnOrder", json!({"asnNumbers": ["A-2"]}))
        .await;
    assert_eq!(cancelled["success"], "true");
    assert_eq!(cancelled["results"][0]["operation"], "CANCEL");
    assert_eq!(cancelled["results"][0]["info"], "");

    let list = sim
        .qianyi("getAsnList", json!({"asnNumbers": ["A-1", "A-2", "A-404"]}))
        .await;
    let asns = list["asnList"].as_array().unwrap();
    assert_eq!(asns.len(), 2);
    assert_eq!(asns[0]["wmsStatus"], "NEW");
    assert_eq!(asns[0]["finishTime"], "");
    assert_eq!(asns[1]["wmsStatus"], "CLOSED");

    tokio::time::sleep(Duration::from_millis(350)).await;
    let list = sim
        .qianyi("getAsnList", json!({"asnNumbers": ["A-1"]}))
        .await;
    let finished = &list["asnList"][0];
    assert_eq!(finished["wmsStatus"], "FINISHED");
    assert_eq!(
        finished["finishTime"].as_str().unwrap().len(),
        "2024-10-26 12:23:34".len()
    );
    assert_eq!(finished["skuList"][0]["receivedQuantity"], 10);
    assert_eq!(finished["skuList"][0]["goodQuantity"], 10);
    assert_eq!(finished["skuList"][0]["badQuantity"], 0);

    assert_eq!(sellable(&sim, "CA1", "SIM-SKU-00002").await, before + 10);

    let too_late = sim
        .qianyi("cancelAsnOrder", json!({"asnNumbers": ["A-1"]}))
        .await;
    assert_eq!(
        too_late["success"], "true",
        "the call worked, the ASN was not cancelled"
    );
    assert_eq!(too_late["results"][0]["success"], "false");
    assert!(!too_late["results"][0]["info"].as_str().unwrap().is_empty());

    // qlink names ASNs in objects.
    let request = json!({"asnNumber": "QA-1", "warehouseCode": "TU01",
                                            "skuList": [{"sku": "SKU1", "quantity": 1}]});
    let result = sim.qlink_ok("createAsnOrder", request).await;
    assert_eq!(result["success"], json!(true));
    let request =
        json!({"asnNumbers": [{"asnNumber": "QA-1", "refCode": "x", "type": "PURCHASE"}]});
    let list = sim.qlink_ok("getAsnList", request).await;
    assert_eq!(list["asnList"][0]["wmsStatus"], "NEW");
    let results = sim
        .qlink_ok("cancelAsnOrder", json!({"asnNumbers": ["QA-1"]}))
        .await;
    assert_eq!(results["results"][0]["success"], json!(true));
    let request = json!({"asnNumber": "QA-2", "warehouseCode": "TU01",
                                            "skuList": [{"sku": "SKU092201", "quantity": 1}]});
    let unknown_sku = sim.qlink_ok("createAsnOrder", request).await;
    assert_eq!(unknown_sku["success"], json!(false));
    assert!(unknown_sku["info"].as_str().unwrap().contains("SKU092201"));
}

#[tokio::test]
async fn inventory_pages_in_both_styles() {
    let sim = sim().await;
    let page = |n: u64| json!({"warehouseCode": "TU01", "page": n, "pageSize": 10, "warehouseSkuList": []});

    // Bare array (the spec's example): the last page is the short one.
    let mut seen = Vec::new();
    for n in 1.. {
        let items = sim.qlink_ok("syncInventory", page(n)).await;
        let items = items.as_array().expect("bare array").clone();
        let short = items.len() < 10;
        seen.extend(items);
        if short {
            break;
        }
    }
    assert_eq!(seen.len(), SKUS_PER_WAREHOUSE);
    assert!(seen.iter().all(|item| item["totalQuantity"].is_string()));
    let example = seen
        .iter()
        .find(|item| item["warehouseSku"] == "pikaqiu")
        .unwrap();
    assert_eq!(example["sellableQuantity"], "6463");

    // The documented page object.
    sim.handle.set_inventory_style(InventoryStyle::PageObject);
    let first = sim.qlink_ok("syncInventory", page(1)).await;
    assert_eq!(first["isLastPage"], json!(false));
    assert_eq!(first["currentPage"], json!(1));
    assert_eq!(first["pageCount"], json!(4));
    assert_eq!(first["data"].as_array().unwrap().len(), 10);
    let last = sim.qlink_ok("syncInventory", page(4)).await;
    assert_eq!(last["isLastPage"], json!(true));
    assert_eq!(
        last["data"].as_array().unwrap().len(),
        SKUS_PER_WAREHOUSE - 30
    );

    // Qianyi always pages with the object at the top level.
    let request = json!({"warehouseCode": "CA2", "page": 2, "pageSize": 20});
    let answer = sim.qianyi("syncInventory", request).await;
    assert_eq!(answer["isLastPage"], json!(true));
    assert_eq!(answer["pageCount"], json!(2));
    assert_eq!(
        answer["data"].as_array().unwrap().len(),
        SKUS_PER_WAREHOUSE - 20
    );

    let answer = sim
        .qlink("syncInventory", json!({"warehouseCode": "TU01", "page": 1}))
        .await
        .json();
    assert_eq!(answer["success"], json!(false));
    assert_eq!(answer["errorMsg"], "missing required field pageSize");
}

#[tokio::test]
async fn upserted_skus_are_orderable() {
    let sim = sim().await;
    let sku = json!({"warehouseCode": "TU03", "sku": "NEW-SKU", "erpSku": "E-1", "title": "Lamp"});
    let result = sim.qlink_ok("insertSkuInfo", sku.clone()).await;
    assert_eq!(
        result,
        json!({"sku": "NEW-SKU", "operation": "CREATE", "info": "", "success": true})
    );
    let result = sim.qlink_ok("insertSkuInfo", sku).await;
    assert_eq!(result["operation"], "UPDATE");
    let request = json!({"warehouseCode": "TU03", "page": 1, "pageSize": 5,
                                           "warehouseSkuList": [{"warehouseSku": "NEW-SKU"}]});
    let stock = sim.qlink_ok("syncInventory", request).await;
    assert_eq!(stock[0]["totalQuantity"], "0");
    sim.qlink_ok("createOrder", order("SO-NEW", "TU03", "NEW-SKU"))
        .await;
    let request = json!({"getOrderInfoList": [{"orderNumber": "SO-NEW"}]});
    let list = sim.qlink_ok("getOrder", request).await;
    assert_eq!(list["warehouseGetOrderList"][0]["status"], "SENDING");

    let request = json!({"sku": "A1234", "warehouseCode": "53"});
    let answer = sim.qianyi("insert_sku_info", request).await;
    assert_eq!(answer["success"], "false");
    assert_eq!(answer["results"][0]["sku"], "A1234");
    let request = json!({"sku": "A1234", "warehouseCode": "CA1"});
    let answer = sim.qianyi("insert_sku_info", request).await;
    assert_eq!(answer["success"], "true");
    assert_eq!(
        answer["results"][0],
        json!({"sku": "A1234", "operation": "CREATE", "info": ""})
    );
}

#[tokio::test]
async fn faults_fire_as_injected() {
    let sim = sim().await;
    sim.handle.inject(
        Fault::new(FaultKind::HttpStatus(503))
            .on("initWarehouses")
            .times(1),
    );
    let outage = sim.qlink("initWarehouses", json!({})).await;
    assert_eq!(outage.status, 503);
    assert_eq!(
        outage.json(),
        json!({"success": false, "errorMsg": "simulated outage"})
    );
    assert_eq!(
        sim.qlink("initWarehouses", json!({})).await.status,
        200,
        "used up"
    );

    sim.handle
        .inject(Fault::new(FaultKind::HttpStatus(429)).times(1));
    let limited = sim.qianyi_text("warehouses", "").await;
    assert_eq!(
        (limited.status, limited.retry_after.as_deref()),
        (429, Some("1"))
    );

    sim.handle.inject(
        Fault::new(FaultKind::MalformedJson)
            .on("warehouses")
            .times(1),
    );
    let garbage = sim.qianyi_text("warehouses", "").await;
    assert_eq!(garbage.status, 200);
    assert!(serde_json::from_str::<Value>(&garbage.body).is_err());

    sim.handle
        .inject(Fault::new(FaultKind::BadSignature).times(1));
    let answer = sim.qlink("initWarehouses", json!({})).await.json();
    assert_eq!(answer["code"], "SIGN_ERROR");
    assert!(
        sim.handle.requests().last().unwrap().signature_valid,
        "the real signature was fine"
    );

    // Only orders for TU02 are rejected.
    sim.handle.inject(
        Fault::new(FaultKind::Reject("warehouse closed for stocktaking".into()))
            .on("createOrder")
            .in_warehouse("TU02"),
    );
    let answer = sim
        .qlink_ok("createOrder", order("F-1", "TU02", "SKU1"))
        .await;
    assert_eq!(
        answer["success"],
        json!(false),
        "the order, not the call, is rejected"
    );
    assert_eq!(answer["info"], "warehouse closed for stocktaking");
    assert_eq!(answer["orderNumber"], "F-1");
    let answer = sim
        .qlink_ok("createOrder", order("F-2", "TU01", "SKU1"))
        .await;
    assert_eq!(answer["success"], json!(true));
    assert_eq!(sim.handle.faults().len(), 1);
    sim.handle.clear_faults();
    sim.handle
        .inject(Fault::new(FaultKind::Reject("maintenance".into())).times(1));
    let request = json!({"getOrderInfoList": [{"orderNumber": "F-2"}]});
    let answer = sim.qlink("getOrder", request).await;
    let answer = answer.json();
    assert_eq!(answer["success"], json!(false));
    assert_eq!(answer["errorMsg"], "maintenance");
    assert!(sim.handle.faults().is_empty());

    sim.handle.inject(
        Fault::new(FaultKind::Reject("no".into()))
            .on("createOrder")
            .in_warehouse("CA1"),
    );
    let answer = sim.qianyi("createOrder", order("F-3", "CA1", "SKU1")).await;
    assert_eq!(answer, json!({"success": "false", "message": "no"}));
    sim.handle.clear_faults();

    sim.handle
        .inject(Fault::new(FaultKind::Delay(Duration::from_millis(300))).times(1));
    let started = std::time::Instant::now();
    let answer = sim.qianyi_text("warehouses", "").await.json();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer["success"], "true");
}

#[tokio::test]
async fn control_api_over_http() {
    let sim = sim().await;
    let added = sim
        .control(
            reqwest::Method::POST,
            "faults",
            Some(json!([
                {"kind": "http_status", "status": 502, "operation": "getOrder", "times": 1},
                {"kind": "reject", "message": "busy", "warehouse_code": "CA2"},
            ])),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.json()["faults"].as_array().unwrap().len(), 2);
    let outage = sim.qianyi("getOrder", json!({"orderNumber": "x"})).await;
    assert_eq!(outage["errorMsg"], "simulated outage");
    let busy = sim
        .qianyi("channels", json!({"warehouseCode": "CA2"}))
        .await;
    assert_eq!(busy["message"], "busy");

    let invalid = sim.configure("faults", json!({"kind": "explode"})).await;
    assert_eq!(invalid.status, 400);
    let cleared = sim.control(reqwest::Method::DELETE, "faults", None).await;
    assert_eq!(cleared.status, 200);
    assert!(sim.handle.faults().is_empty());

    let style = sim
        .configure("inventory_style", json!({"style": "page_object"}))
        .await;
    assert_eq!(style.status, 200, "{}", style.body);
    let request = json!({"warehouseCode": "TU01", "page": 1, "pageSize": 100});
    let page = sim.qlink_ok("syncInventory", request).await;
    assert_eq!(page["isLastPage"], json!(true));
    let invalid = sim
        .configure("inventory_style", json!({"style": "zigzag"}))
        .await;
    assert_eq!(invalid.status, 400);

    let requests = sim
        .control(reqwest::Method::GET, "requests", None)
        .await
        .json();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0]["protocol"], "qianyi");
    assert_eq!(requests[0]["operation"], "getOrder");
    assert_eq!(requests[0]["content"], r#"{"orderNumber":"x"}"#);
    assert_eq!(requests[2]["protocol"], "qlink");
    assert_eq!(requests[2]["headers"]["appkey"], APP_KEY);
    assert_eq!(requests[2]["signature_valid"], json!(true));
    sim.control(reqwest::Method::DELETE, "requests", None).await;
    assert!(sim.handle.requests().is_empty());
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let sim = sim_with(SimulatorConfig::default()).await;
    let addr = sim.handle.addr();
    assert_eq!(sim.qianyi_text("warehouses", "").await.status, 200);
    sim.handle.shutdown().await;
    assert!(
        http_client()
            .post(format!("http://{addr}/qianyi"))
            .send()
            .await
            .is_err()
    );
}
