//! The worlds' business rules, one request at a time, without HTTP.

use serde_json::json;

use super::*;

fn world() -> World {
    World::new(
        Flavor::Qlink,
        Duration::from_secs(10),
        Duration::from_secs(10),
        5,
    )
}

/// SKU1's stock in TU01 at `now`.
fn sku1_stock(world: &mut World, now: Instant) -> Stock {
    let page = world.inventory("TU01", &["SKU1".into()], 1, 10, now);
    page.expect("SKU1 is stocked").rows[0].stock
}

fn order(number: &str, sku: &str, quantity: i64) -> Value {
    json!({
        "orderNumber": number, "warehouseCode": "TU01", "logisticsCode": "UPS-1",
        "receiver": {"name": "x"}, "skuList": [{"sku": sku, "quantity": quantity.to_string()}]
    })
}

#[test]
fn wall_clock_format() {
    assert_eq!(format_wall(UNIX_EPOCH), "1970-01-01 00:00:00");
    let t = UNIX_EPOCH + Duration::from_secs(1_729_945_414); // 2024-10-26 12:23:34 UTC
    assert_eq!(format_wall(t), "2024-10-26 12:23:34");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
    assert_eq!(format_wall(leap), "2000-02-29 00:00:00");
}

#[test]
fn orders_reserve_ship_and_release() {
    let mut world = world();
    let t0 = Instant::now();
    let before = sku1_stock(&mut world, t0);
    world.create_order(&order("A", "SKU1", 3), t0).unwrap();
    world.create_order(&order("B", "SKU1", 2), t0).unwrap();
    let reserved = sku1_stock(&mut world, t0);
    assert_eq!(reserved.sellable, before.sellable - 5);
    assert_eq!(reserved.reserved, before.reserved + 5);
    assert_eq!(world.cancel_order("B", t0), Ok(""));
    let later = t0 + Duration::from_secs(11);
    assert_eq!(world.order("A", later).unwrap().status, "SUCCESS");
    assert_eq!(world.order("B", later).unwrap().status, "CANCEL");
    let after = sku1_stock(&mut world, later);
    assert_eq!(after.sellable, before.sellable - 3);
    assert_eq!(after.reserved, before.reserved);
    assert_eq!(after.total, before.total - 3);
    assert_eq!(
        world.cancel_order("A", later),
        Err("order already shipped".to_owned())
    );
}

#[test]
fn failures_and_rejections() {
    let mut world = world();
    let t0 = Instant::now();
    world.create_order(&order("X", "NOPE", 1), t0).unwrap();
    let view = world.order("X", t0).unwrap();
    assert_eq!(view.status, "FAILED");
    assert!(view.failed_reason.contains("NOPE"));
    let duplicate = world.create_order(&order("X", "SKU1", 1), t0).unwrap_err();
    assert!(duplicate.contains("already exists"), "{duplicate}");
    let mut missing = order("Y", "SKU1", 1);
    missing.as_object_mut().unwrap().remove("skuList");
    assert_eq!(
        world.create_order(&missing, t0).unwrap_err(),
        "missing required field skuList"
    );
    // Short of stock: backordered, not failed.
    world
        .create_order(&order("Z", "SKU1", 100_000), t0)
        .unwrap();
    assert_eq!(world.order("Z", t0).unwrap().status, "SENDING");
    let row = sku1_stock(&mut world, t0);
    assert_eq!(row.sellable, 0);
    world.cancel_order("Z", t0).unwrap();
    let row = sku1_stock(&mut world, t0);
    assert_eq!(row.sellable, 109);
}

#[test]
fn asns_receive_into_stock() {
    let mut world = world();
    let t0 = Instant::now();
    let sku = generated_sku(1);
    let asn = json!({"asnNumber": "A1", "warehouseCode": "TU02", "skuList": [{"sku": sku, "quantity": 7}]});
    world.create_asn(&asn, t0).unwrap();
    let before = world
        .inventory("TU02", std::slice::from_ref(&sku), 1, 1, t0)
        .unwrap()
        .rows[0]
        .stock;
    assert_eq!(world.asn("A1", t0).unwrap().wms_status, "NEW");
    let receiving = world.asn("A1", t0 + Duration::from_secs(10)).unwrap();
    assert_eq!(
        (receiving.wms_status, receiving.lines[0].received),
        ("RECEIVING", 3)
    );
    assert!(
        world
            .cancel_asn("A1", t0 + Duration::from_secs(10))
            .is_err()
    );
    let finished = world.asn("A1", t0 + Duration::from_secs(20)).unwrap();
    assert_eq!(finished.wms_status, "FINISHED");
    assert_eq!(finished.lines[0].good, 7);
    assert_eq!(finished.finish_time.len(), 19);
    let after = world
        .inventory(
            "TU02",
            std::slice::from_ref(&sku),
            1,
            1,
            t0 + Duration::from_secs(20),
        )
        .unwrap()
        .rows[0]
        .stock;
    assert_eq!(after.sellable, before.sellable + 7);
    assert_eq!(after.onway, before.onway - 7);
}

#[test]
fn upserted_skus_become_orderable() {
    let mut world = world();
    let t0 = Instant::now();
    let (operation, outcome) = world.upsert_sku(&json!({"sku": "NEW-1", "warehouseCode": "TU01"}));
    assert_eq!((operation, outcome), (SkuOperation::Create, Ok(())));
    let (operation, _) = world.upsert_sku(&json!({"sku": "NEW-1"}));
    assert_eq!(operation, SkuOperation::Update);
    let row = &world
        .inventory("TU03", &["NEW-1".into()], 1, 10, t0)
        .unwrap()
        .rows[0];
    assert_eq!(row.stock, Stock::default());
}

#[test]
fn paging() {
    let mut world = world(); // 5 generated + 14 example SKUs
    let t0 = Instant::now();
    let first = world.inventory("TU01", &[], 1, 8, t0).unwrap();
    assert_eq!(
        (first.rows.len(), first.page_count, first.is_last_page),
        (8, 3, false)
    );
    let last = world.inventory("TU01", &[], 3, 8, t0).unwrap();
    assert_eq!((last.rows.len(), last.is_last_page), (3, true));
    let beyond = world.inventory("TU01", &[], 9, 8, t0).unwrap();
    assert!(beyond.rows.is_empty() && beyond.is_last_page);
}
