//! The simulated warehouses' memory: warehouses, channels, products, stock,
//! orders and ASNs of one protocol's world, and the business rules on them.
//! Protocol-neutral: it reads requests as tolerant JSON and answers with
//! plain views; the wire shapes live in `qlink.rs` and `qianyi.rs`.
//!
//! Lifecycles are computed lazily: every call first runs [`World::advance`],
//! which moves orders and ASNs whose timers have elapsed and applies their
//! stock effects exactly once.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

use warehouse_protocol::tolerant::{int_of, string_of};

mod catalog;

pub(crate) use catalog::{CHANNELS, Channel, Stock, generated_sku};
use catalog::{EXAMPLE_SKUS, LOWEST_PRICE_CARRIER, generated_stock};

/// Which protocol a world speaks; decides warehouses, number prefixes and
/// the warehouse's own (`wmsStatus`) spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Qlink,
    Qianyi,
}

/// A shipping warehouse.
#[derive(Debug, Clone)]
pub(crate) struct Warehouse {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone)]
enum OrderPhase {
    Sending,
    Shipped { tracking: String },
    Cancelled,
    Failed(String),
}

#[derive(Debug, Clone)]
struct OrderLine {
    sku: String,
    quantity: i64,
    /// What was taken from `sellable`: less than `quantity` when stock was
    /// short (the simulator backorders rather than failing the order).
    taken: i64,
}

#[derive(Debug, Clone)]
struct Order {
    number: String,
    seq: u64,
    warehouse: String,
    carrier: String,
    /// Reserved in stock while the order is sending.
    lines: Vec<OrderLine>,
    created: Instant,
    phase: OrderPhase,
}

/// What `getOrder` reports of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderView {
    pub order_number: String,
    pub wms_status: &'static str,
    /// SENDING, SUCCESS, CANCEL or FAILED.
    pub status: &'static str,
    pub carrier_name: String,
    pub tracking_number: String,
    pub failed_reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AsnPhase {
    New,
    Receiving,
    Finished,
    Closed,
}

impl AsnPhase {
    fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Receiving => "RECEIVING",
            Self::Finished => "FINISHED",
            Self::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone)]
struct AsnLine {
    sku: String,
    name: String,
    quantity: i64,
}

#[derive(Debug, Clone)]
struct Asn {
    number: String,
    wms_number: String,
    warehouse: String,
    lines: Vec<AsnLine>,
    created: Instant,
    created_wall: SystemTime,
    phase: AsnPhase,
}

/// What `getAsnList` reports of one ASN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AsnView {
    pub asn_number: String,
    pub wms_status: &'static str,
    pub reference_number: String,
    /// "YYYY-MM-DD HH:MM:SS" (UTC) once FINISHED, else "".
    pub finish_time: String,
    pub lines: Vec<AsnLineView>,
}

/// Received quantities of one line of an ASN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AsnLineView {
    pub sku: String,
    pub name: String,
    pub estimated: i64,
    pub received: i64,
    pub good: i64,
    pub bad: i64,
}

/// One row of inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InventoryRow {
    pub warehouse_code: String,
    pub sku: String,
    pub stock: Stock,
}

/// One page of inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InventoryPage {
    pub rows: Vec<InventoryRow>,
    pub current_page: u64,
    /// At least 1, even for an empty result.
    pub page_count: u64,
    pub is_last_page: bool,
}

/// What an upsert did to a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkuOperation {
    Create,
    Update,
}

impl SkuOperation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
        }
    }
}

/// The outcome of cancelling one item: `Ok(info)` (info is "" or a note such
/// as "order already cancelled") or `Err(reason)`.
pub(crate) type CancelOutcome = Result<&'static str, String>;

/// One protocol's warehouses and everything in them.
#[derive(Debug)]
pub(crate) struct World {
    flavor: Flavor,
    ship_after: Duration,
    receive_after: Duration,
    warehouses: Vec<Warehouse>,
    /// Every known product, as last sent (the world-wide catalog decides
    /// CREATE versus UPDATE).
    catalog: BTreeMap<String, Value>,
    /// warehouse code → sku → stock; a SKU is orderable in a warehouse when
    /// it has a row here.
    stock: BTreeMap<String, BTreeMap<String, Stock>>,
    orders: HashMap<String, Order>,
    asns: HashMap<String, Asn>,
    next_seq: u64,
}

impl World {
    pub(crate) fn new(
        flavor: Flavor,
        ship_after: Duration,
        receive_after: Duration,
        inventory_skus: usize,
    ) -> Self {
        let warehouses: Vec<Warehouse> = match flavor {
            // The qlink example swaps code and name; the codes are TU01…
            Flavor::Qlink => vec![
                warehouse("TU01", "TU美东代理仓"),
                warehouse("TU02", "TU美西自营仓"),
                warehouse("TU03", "TU测试"),
            ],
            Flavor::Qianyi => vec![
                warehouse("CA1", "CA Warehouse"),
                warehouse("CA2", "CA Warehouse 2"),
            ],
        };
        let mut catalog = BTreeMap::new();
        let mut stock = BTreeMap::new();
        for (warehouse_index, wh) in warehouses.iter().enumerate() {
            let mut rows = BTreeMap::new();
            for index in 1..=inventory_skus {
                rows.insert(
                    generated_sku(index),
                    generated_stock(index, warehouse_index),
                );
            }
            for (sku, example) in EXAMPLE_SKUS {
                rows.insert(sku.to_owned(), example);
            }
            for sku in rows.keys() {
                catalog
                    .entry(sku.clone())
                    .or_insert_with(|| serde_json::json!({"sku": sku, "erpSku": sku}));
            }
            stock.insert(wh.code.clone(), rows);
        }
        Self {
            flavor,
            ship_after,
            receive_after,
            warehouses,
            catalog,
            stock,
            orders: HashMap::new(),
            asns: HashMap::new(),
            next_seq: 1,
        }
    }

    pub(crate) fn warehouses(&self) -> &[Warehouse] {
        &self.warehouses
    }

    fn has_warehouse(&self, code: &str) -> bool {
        self.warehouses.iter().any(|wh| wh.code == code)
    }

    /// Channels of one warehouse (or of all, for an empty code), with the
    /// warehouse code each belongs to.
    pub(crate) fn channels(&self, warehouse_code: &str) -> Result<Vec<(String, Channel)>, String> {
        if !warehouse_code.is_empty() && !self.has_warehouse(warehouse_code) {
            return Err(unknown_warehouse(warehouse_code));
        }
        Ok(self
            .warehouses
            .iter()
            .filter(|wh| warehouse_code.is_empty() || wh.code == warehouse_code)
            .flat_map(|wh| CHANNELS.iter().map(|channel| (wh.code.clone(), *channel)))
            .collect())
    }

    fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Moves every order and ASN whose timer has elapsed, applying stock
    /// effects once.
    pub(crate) fn advance(&mut self, now: Instant) {
        for order in self.orders.values_mut() {
            if matches!(order.phase, OrderPhase::Sending)
                && now.saturating_duration_since(order.created) >= self.ship_after
            {
                if let Some(rows) = self.stock.get_mut(&order.warehouse) {
                    for line in &order.lines {
                        if let Some(row) = rows.get_mut(&line.sku) {
                            row.reserved -= line.quantity;
                            row.total = (row.total - line.quantity).max(0);
                        }
                    }
                }
                order.phase = OrderPhase::Shipped {
                    tracking: tracking_number(&order.carrier, order.seq),
                };
            }
        }
        for asn in self.asns.values_mut() {
            if matches!(asn.phase, AsnPhase::Closed | AsnPhase::Finished) {
                continue;
            }
            let elapsed = now.saturating_duration_since(asn.created);
            if elapsed >= self.receive_after * 2 {
                if let Some(rows) = self.stock.get_mut(&asn.warehouse) {
                    for line in &asn.lines {
                        let row = rows.entry(line.sku.clone()).or_default();
                        row.onway -= line.quantity;
                        row.sellable += line.quantity;
                        row.total += line.quantity;
                    }
                }
                asn.phase = AsnPhase::Finished;
            } else if elapsed >= self.receive_after {
                asn.phase = AsnPhase::Receiving;
            }
        }
    }

    /// Creates an order; `Ok(warehouse order number)` or the rejection's words.
    /// An order whose SKU is unknown to the warehouse is created, FAILED; one
    /// short of stock is backordered (reserved in full, sellable floors at 0).
    pub(crate) fn create_order(&mut self, request: &Value, now: Instant) -> Result<String, String> {
        self.advance(now);
        let number = required(request, "orderNumber")?;
        let warehouse_code = required(request, "warehouseCode")?;
        let logistics_code = required(request, "logisticsCode")?;
        if !request.get("receiver").is_some_and(Value::is_object) {
            return Err("missing required field receiver".to_owned());
        }
        let items = lines(request, "skuList")?;
        if let Some(existing) = self.orders.get(&number) {
            return Err(format!(
                "order number {number} already exists (warehouse order {})",
                self.order_number_of(existing.seq)
            ));
        }
        if !self.has_warehouse(&warehouse_code) {
            return Err(unknown_warehouse(&warehouse_code));
        }
        let Some(channel) = CHANNELS
            .iter()
            .find(|channel| channel.code == logistics_code)
        else {
            return Err(format!(
                "logistics code {logistics_code} is not available in warehouse {warehouse_code}"
            ));
        };
        let carrier = if channel.carrier.is_empty() {
            LOWEST_PRICE_CARRIER
        } else {
            channel.carrier
        };
        let (phase, lines) = self.reserve(&warehouse_code, items);
        let seq = self.next_seq();
        self.orders.insert(
            number.clone(),
            Order {
                number,
                seq,
                warehouse: warehouse_code,
                carrier: carrier.to_owned(),
                lines,
                created: now,
                phase,
            },
        );
        Ok(self.order_number_of(seq))
    }

    /// Reserves the order's stock, or says why the order fails (then
    /// nothing is reserved).
    fn reserve(
        &mut self,
        warehouse_code: &str,
        items: Vec<AsnLine>,
    ) -> (OrderPhase, Vec<OrderLine>) {
        let mut lines: Vec<OrderLine> = items
            .into_iter()
            .map(|item| OrderLine {
                sku: item.sku,
                quantity: item.quantity,
                taken: 0,
            })
            .collect();
        let Some(rows) = self.stock.get_mut(warehouse_code) else {
            return (OrderPhase::Failed(unknown_warehouse(warehouse_code)), lines);
        };
        if let Some(unknown) = lines.iter().find(|line| !rows.contains_key(&line.sku)) {
            let reason = format!(
                "sku {} does not exist in warehouse {warehouse_code}",
                unknown.sku
            );
            return (OrderPhase::Failed(reason), lines);
        }
        for line in &mut lines {
            if let Some(row) = rows.get_mut(&line.sku) {
                line.taken = line.quantity.min(row.sellable.max(0));
                row.sellable -= line.taken;
                row.reserved += line.quantity;
            }
        }
        (OrderPhase::Sending, lines)
    }

    fn order_number_of(&self, seq: u64) -> String {
        match self.flavor {
            Flavor::Qlink => format!("OBS{seq:010}"),
            Flavor::Qianyi => format!("QYO{seq:08}"),
        }
    }

    /// Cancels one order: possible until it ships.
    pub(crate) fn cancel_order(&mut self, number: &str, now: Instant) -> CancelOutcome {
        self.advance(now);
        let Some(order) = self.orders.get_mut(number) else {
            return Err(format!("order {number} not found"));
        };
        match &order.phase {
            OrderPhase::Sending => {
                if let Some(rows) = self.stock.get_mut(&order.warehouse) {
                    for line in &order.lines {
                        if let Some(row) = rows.get_mut(&line.sku) {
                            row.reserved -= line.quantity;
                            row.sellable += line.taken;
                        }
                    }
                }
                order.phase = OrderPhase::Cancelled;
                Ok("")
            }
            OrderPhase::Failed(_) => {
                order.phase = OrderPhase::Cancelled;
                Ok("")
            }
            OrderPhase::Cancelled => Ok("order already cancelled"),
            OrderPhase::Shipped { .. } => Err("order already shipped".to_owned()),
        }
    }

    /// The state of one order, `None` when unknown.
    pub(crate) fn order(&mut self, number: &str, now: Instant) -> Option<OrderView> {
        self.advance(now);
        let order = self.orders.get(number)?;
        let (status, wms_status) = match (&order.phase, self.flavor) {
            (OrderPhase::Sending, Flavor::Qlink) => ("SENDING", "0"),
            (OrderPhase::Sending, Flavor::Qianyi) => ("SENDING", "PROCESSING"),
            (OrderPhase::Shipped { .. }, _) => ("SUCCESS", "Shipped"),
            (OrderPhase::Cancelled, _) => ("CANCEL", "Cancelled"),
            (OrderPhase::Failed(_), _) => ("FAILED", "Exception"),
        };
        let (carrier_name, tracking_number) = match &order.phase {
            OrderPhase::Shipped { tracking } => (order.carrier.clone(), tracking.clone()),
            _ => (String::new(), String::new()),
        };
        let failed_reason = match &order.phase {
            OrderPhase::Failed(reason) => reason.clone(),
            _ => String::new(),
        };
        Some(OrderView {
            order_number: order.number.clone(),
            wms_status,
            status,
            carrier_name,
            tracking_number,
            failed_reason,
        })
    }

    /// One page of a warehouse's stock, ordered by SKU; `skus` empty means all.
    pub(crate) fn inventory(
        &mut self,
        warehouse_code: &str,
        skus: &[String],
        page: u64,
        page_size: u64,
        now: Instant,
    ) -> Result<InventoryPage, String> {
        self.advance(now);
        let Some(rows) = self.stock.get(warehouse_code) else {
            return Err(unknown_warehouse(warehouse_code));
        };
        let matching: Vec<(&String, &Stock)> = rows
            .iter()
            .filter(|(sku, _)| skus.is_empty() || skus.iter().any(|wanted| wanted == *sku))
            .collect();
        let total = matching.len() as u64;
        let page_count = total.div_ceil(page_size).max(1);
        let start = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
        let size = usize::try_from(page_size).unwrap_or(usize::MAX);
        let rows = matching
            .into_iter()
            .skip(start)
            .take(size)
            .map(|(sku, stock)| InventoryRow {
                warehouse_code: warehouse_code.to_owned(),
                sku: sku.clone(),
                stock: *stock,
            })
            .collect();
        Ok(InventoryPage {
            rows,
            current_page: page,
            page_count,
            is_last_page: page >= page_count,
        })
    }

    /// Creates an ASN; `Ok(warehouse ASN number)` or the rejection's words.
    pub(crate) fn create_asn(&mut self, request: &Value, now: Instant) -> Result<String, String> {
        self.advance(now);
        let number = required(request, "asnNumber")?;
        let warehouse_code = required(request, "warehouseCode")?;
        let lines = lines(request, "skuList")?;
        if self.asns.contains_key(&number) {
            return Err(format!("asn number {number} already exists"));
        }
        let Some(rows) = self.stock.get_mut(&warehouse_code) else {
            return Err(unknown_warehouse(&warehouse_code));
        };
        if let Some(unknown) = lines.iter().find(|line| !rows.contains_key(&line.sku)) {
            return Err(format!(
                "SKU:{} is not registered in warehouse {warehouse_code} (insert the sku first)",
                unknown.sku
            ));
        }
        for line in &lines {
            if let Some(row) = rows.get_mut(&line.sku) {
                row.onway += line.quantity;
            }
        }
        let seq = self.next_seq();
        let wms_number = match self.flavor {
            Flavor::Qlink => format!("IB{seq:010}"),
            Flavor::Qianyi => format!("QYIB{seq:08}"),
        };
        self.asns.insert(
            number.clone(),
            Asn {
                number,
                wms_number: wms_number.clone(),
                warehouse: warehouse_code,
                lines,
                created: now,
                created_wall: SystemTime::now(),
                phase: AsnPhase::New,
            },
        );
        Ok(wms_number)
    }

    /// The state of one ASN, `None` when unknown.
    pub(crate) fn asn(&mut self, number: &str, now: Instant) -> Option<AsnView> {
        self.advance(now);
        let asn = self.asns.get(number)?;
        let finish_time = if asn.phase == AsnPhase::Finished {
            format_wall(asn.created_wall + self.receive_after * 2)
        } else {
            String::new()
        };
        let lines = asn
            .lines
            .iter()
            .map(|line| {
                // Half arrives while RECEIVING, all of it (all good) when FINISHED.
                let received = match asn.phase {
                    AsnPhase::New | AsnPhase::Closed => 0,
                    AsnPhase::Receiving => line.quantity / 2,
                    AsnPhase::Finished => line.quantity,
                };
                AsnLineView {
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    estimated: line.quantity,
                    received,
                    good: received,
                    bad: 0,
                }
            })
            .collect();
        Some(AsnView {
            asn_number: asn.number.clone(),
            wms_status: asn.phase.as_str(),
            reference_number: asn.wms_number.clone(),
            finish_time,
            lines,
        })
    }

    /// Cancels one ASN: possible only while NEW.
    pub(crate) fn cancel_asn(&mut self, number: &str, now: Instant) -> CancelOutcome {
        self.advance(now);
        let Some(asn) = self.asns.get_mut(number) else {
            return Err(format!("asn {number} not found"));
        };
        match asn.phase {
            AsnPhase::New => {
                if let Some(rows) = self.stock.get_mut(&asn.warehouse) {
                    for line in &asn.lines {
                        if let Some(row) = rows.get_mut(&line.sku) {
                            row.onway -= line.quantity;
                        }
                    }
                }
                asn.phase = AsnPhase::Closed;
                Ok("")
            }
            AsnPhase::Closed => Ok("asn already cancelled"),
            phase => Err(format!(
                "asn {number} is {} and can no longer be cancelled",
                phase.as_str()
            )),
        }
    }

    /// Creates or updates a product; it becomes orderable (with no stock) in
    /// the given warehouse, or in every warehouse when none is given.
    pub(crate) fn upsert_sku(&mut self, request: &Value) -> (SkuOperation, Result<(), String>) {
        let sku = text(request, "sku");
        let operation = if self.catalog.contains_key(&sku) {
            SkuOperation::Update
        } else {
            SkuOperation::Create
        };
        if sku.is_empty() {
            return (operation, Err("missing required field sku".to_owned()));
        }
        let warehouse_code = text(request, "warehouseCode");
        if !warehouse_code.is_empty() && !self.has_warehouse(&warehouse_code) {
            return (operation, Err(unknown_warehouse(&warehouse_code)));
        }
        self.catalog.insert(sku.clone(), request.clone());
        for (code, rows) in &mut self.stock {
            if warehouse_code.is_empty() || *code == warehouse_code {
                rows.entry(sku.clone()).or_default();
            }
        }
        (operation, Ok(()))
    }
}

fn warehouse(code: &str, name: &str) -> Warehouse {
    Warehouse {
        code: code.to_owned(),
        name: name.to_owned(),
    }
}

fn unknown_warehouse(code: &str) -> String {
    format!("warehouse {code} is not assigned to this account")
}

fn tracking_number(carrier: &str, seq: u64) -> String {
    match carrier {
        "UPS" => format!("1ZSIM{seq:011}"),
        "FEDEX" => format!("7{seq:011}"),
        _ => format!("9400SIM{seq:012}"),
    }
}

/// A field as trimmed text ("" when absent or null); numbers become text.
pub(crate) fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .map(string_of)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A required text field, or the rejection naming it.
pub(crate) fn required(value: &Value, key: &str) -> Result<String, String> {
    let found = text(value, key);
    if found.is_empty() {
        Err(format!("missing required field {key}"))
    } else {
        Ok(found)
    }
}

/// The product lines of an order or ASN: a non-empty list whose every line
/// has a SKU and a positive quantity.
fn lines(value: &Value, key: &str) -> Result<Vec<AsnLine>, String> {
    let items = match value.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => items.as_slice(),
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        _ => return Err(format!("missing required field {key}")),
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let sku = text(item, "sku");
            if sku.is_empty() {
                return Err(format!("missing required field {key}[{index}].sku"));
            }
            let quantity = item.get("quantity").and_then(int_of).unwrap_or(0);
            if quantity <= 0 {
                return Err(format!("{key}[{index}].quantity must be a positive number"));
            }
            Ok(AsnLine {
                sku,
                name: text(item, "name"),
                quantity,
            })
        })
        .collect()
}

/// "YYYY-MM-DD HH:MM:SS" in UTC.
pub(crate) fn format_wall(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests;
