//! The README's grpcurl walkthrough, run as written: every command between
//! the walkthrough markers is parsed out of README.md (tenant header, JSON
//! body, method), its JSON read into the request message the way grpcurl
//! does (proto3 JSON), and sent with the generated client against demo mode.
//! Change the README and this test follows; break it and this test fails.

mod common;

use std::time::Duration;

use common::*;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use qlink_facade::{proto, simulator::SimulatorConfig};

/// One `grpcurl` command of the walkthrough.
#[derive(Debug)]
struct Grpcurl {
    tenant: Option<String>,
    data: Option<String>,
    /// `qlink.v1.Service/Method`, or `list`.
    target: String,
}

fn walkthrough() -> Vec<Grpcurl> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("walkthrough start marker");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("walkthrough end marker");
    let section = &readme[start..end];
    let joined = section.replace("\\\n", " ");
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    for line in joined.lines() {
        if !in_quote && line.trim_start().starts_with("grpcurl ") {
            if !current.is_empty() {
                commands.push(std::mem::take(&mut current));
            }
        } else if !in_quote
            && (current.is_empty()
                || line.trim_start().starts_with('#')
                || line.trim().is_empty()
                || line.starts_with("```"))
        {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        in_quote ^= line.matches('\'').count() % 2 == 1;
    }
    if !current.is_empty() {
        commands.push(current);
    }
    commands.iter().map(|command| parse(command)).collect()
}

fn parse(command: &str) -> Grpcurl {
    let quoted_after = |flag: &str| {
        let at = command.find(flag)? + flag.len();
        let rest = &command[at..];
        let close = rest.find('\'')?;
        Some(rest[..close].to_owned())
    };
    let tenant = quoted_after("-H 'x-tenant-id:").map(|t| t.trim().to_owned());
    let data = quoted_after("-d '");
    // The target is the last word outside quotes.
    let mut outside = String::new();
    let mut in_quote = false;
    for c in command.chars() {
        if c == '\'' {
            in_quote = !in_quote;
        } else if !in_quote {
            outside.push(c);
        }
    }
    let target = outside
        .split_whitespace()
        .last()
        .expect("a target")
        .to_owned();
    Grpcurl {
        tenant,
        data,
        target,
    }
}

/// Reads grpcurl's JSON into the method's request message.
fn request<T: Message + Default>(pool: &DescriptorPool, target: &str, data: Option<&str>) -> T {
    let (service, method) = target.split_once('/').expect("Service/Method");
    let input = pool
        .get_service_by_name(service)
        .unwrap_or_else(|| panic!("no service {service}"))
        .methods()
        .find(|m| m.name() == method)
        .unwrap_or_else(|| panic!("no method {target}"))
        .input();
    let mut deserializer = serde_json::Deserializer::from_str(data.unwrap_or("{}"));
    let dynamic = DynamicMessage::deserialize(input, &mut deserializer)
        .unwrap_or_else(|err| panic!("README JSON for {target} does not fit the proto: {err}"));
    T::decode(dynamic.encode_to_vec().as_slice()).expect("same message")
}

#[tokio::test]
async fn the_readme_walkthrough_works_against_demo_mode() {
    let commands = walkthrough();
    assert!(commands.len() >= 9, "{commands:#?}");
    let world = world_with(SimulatorConfig::default()).await;
    let pool = DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let mut methods_run = Vec::new();
    for command in &commands {
        let tenant = command.tenant.as_deref().unwrap_or("");
        let data = command.data.as_deref();
        let target = command.target.as_str();
        methods_run.push(target.rsplit('/').next().unwrap_or(target).to_owned());
        let api = world.facade.caller(tenant);
        match target {
            "list" => {
                assert!(command.tenant.is_none());
            }
            "qlink.v1.WarehouseService/ListWarehouses" => {
                // An empty message, but the README's JSON must still fit it.
                let _: proto::ListWarehousesRequest = request(&pool, target, data);
                let warehouses = api.list_warehouses().await.expect(target);
                assert!(!warehouses.is_empty());
            }
            "qlink.v1.WarehouseService/ListChannels" => {
                let listed: proto::ListChannelsRequest = request(&pool, target, data);
                let channels = api.list_channels(&listed.warehouse_code).await;
                assert!(!channels.expect(target).is_empty());
            }
            "qlink.v1.OrderService/CreateOrder" => {
                let created = api.create_order(request(&pool, target, data)).await;
                assert!(!created.expect(target).warehouse_order_number.is_empty());
            }
            "qlink.v1.OrderService/GetOrders" => {
                // "watch it ship": the README says to ask again a little later.
                let lookup: proto::GetOrdersRequest = request(&pool, target, data);
                let shipped = eventually(Duration::from_secs(15), || async {
                    let mut client = world.facade.orders();
                    let answer = client.get_orders(api.request(lookup.clone())).await;
                    let orders = answer.ok()?.into_inner().orders;
                    orders.into_iter().find(|o| {
                        o.status == proto::OrderStatus::Success as i32
                            && !o.tracking_number.is_empty()
                    })
                })
                .await;
                assert!(shipped.is_some(), "the README's order never shipped");
            }
            "qlink.v1.InventoryService/SyncInventory" => {
                let pages = api.inventory_pages(request(&pool, target, data)).await;
                assert!(pages.len() > 1, "a stream of several pages");
                assert!(pages.last().is_some_and(|p| p.is_last_page));
            }
            "qlink.v1.AsnService/CreateAsn" => {
                let created = api.create_asn(request(&pool, target, data)).await;
                created.expect(target);
            }
            "qlink.v1.AsnService/GetAsns" => {
                let lookup: proto::GetAsnsRequest = request(&pool, target, data);
                let received = eventually(Duration::from_secs(20), || async {
                    let asns = api.get_asns(lookup.clone()).await.ok()?;
                    asns.into_iter()
                        .find(|a| a.status == proto::AsnStatus::Finished as i32)
                })
                .await;
                assert!(received.is_some(), "the README's ASN was never received");
            }
            "qlink.v1.SkuService/UpsertSku" => {
                let upserted = api.upsert_sku(request(&pool, target, data)).await;
                assert!(!upserted.expect(target).operation.is_empty());
            }
            other => {
                panic!("the walkthrough calls {other}, which this test does not know: add it here")
            }
        }
    }
    let shown = [
        "list",
        "ListWarehouses",
        "ListChannels",
        "CreateOrder",
        "GetOrders",
        "SyncInventory",
        "CreateAsn",
        "GetAsns",
        "UpsertSku",
    ];
    assert_all_in(
        &methods_run,
        &shown,
        "the walkthrough should show each method",
    );
}
