//! What every simulated warehouse carries from the start: the logistics
//! channels, the SKUs of the specs' examples with their quantities, and
//! generated SKUs with varied, deterministic stock.

/// A logistics channel; every simulated warehouse offers all of them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel {
    pub code: &'static str,
    pub name: &'static str,
    /// Empty for the "lowest price" channel, as in the qlink example.
    pub carrier: &'static str,
}

pub(crate) const CHANNELS: [Channel; 3] = [
    Channel {
        code: "UPS-1",
        name: "UPS Ground",
        carrier: "UPS",
    },
    Channel {
        code: "FedexGround",
        name: "FedEx Ground",
        carrier: "FEDEX",
    },
    Channel {
        code: "Service with the lowest price",
        name: "自动选取价格最低的渠道",
        carrier: "",
    },
];

/// The carrier that ships parcels of the "lowest price" channel.
pub(super) const LOWEST_PRICE_CARRIER: &str = "USPS";

/// Stock of one product in one warehouse; every quantity is reported as a
/// string on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stock {
    pub onway: i64,
    pub pending: i64,
    pub sellable: i64,
    pub unsellable: i64,
    pub reserved: i64,
    pub used: i64,
    pub total: i64,
}

impl Stock {
    const fn example(
        onway: i64,
        sellable: i64,
        unsellable: i64,
        reserved: i64,
        used: i64,
        total: i64,
    ) -> Self {
        Self {
            onway,
            pending: 0,
            sellable,
            unsellable,
            reserved,
            used,
            total,
        }
    }
}

/// The SKUs of the specs' examples, with the qlink example's quantities, in
/// every warehouse of both worlds (so the examples' requests work as sent).
pub(super) const EXAMPLE_SKUS: [(&str, Stock); 14] = [
    ("LINGXING-SKUE", Stock::example(0, 10, 0, 0, 0, 550)),
    ("LINGXINGSKUB", Stock::example(0, 58, 0, 0, 1, 720)),
    ("Stitch", Stock::example(0, 4706, 0, 0, 22, 6168)),
    ("LINGXING-SKUD", Stock::example(0, 29, 0, 0, 21, 590)),
    ("LINGXING-SKUC", Stock::example(0, 92, 0, 0, 1, 633)),
    ("ceshi", Stock::example(0, 1997, 0, 0, 17, 2554)),
    ("SKU1", Stock::example(1001, 109, 0, 0, 1, 650)),
    ("SKU2", Stock::example(0, 160, 6, 0, 0, 726)),
    ("A 1", Stock::example(0, 0, 0, 0, 0, 0)),
    ("LINGXING-SKUA", Stock::example(0, 27, 5, 0, 31, 622)),
    ("pikaqiu", Stock::example(30, 6463, 999, 0, 54, 7877)),
    ("sku", Stock::example(11, 33, 0, 22, 11, 99)),
    ("CL0000000000001", Stock::example(0, 120, 0, 0, 0, 120)),
    ("CLO-CNQM5069BL", Stock::example(0, 80, 0, 0, 0, 80)),
];

/// The name of the `index`th (from 1) generated SKU.
pub(crate) fn generated_sku(index: usize) -> String {
    format!("SIM-SKU-{index:05}")
}

/// Deterministic stock of a generated SKU: varied, never empty, so orders of
/// a few units always fit.
pub(super) fn generated_stock(index: usize, warehouse_index: usize) -> Stock {
    let sellable = 20 + ((index * 37 + warehouse_index * 101) % 480) as i64;
    let unsellable = if index.is_multiple_of(9) {
        (index % 5) as i64
    } else {
        0
    };
    let onway = if index.is_multiple_of(6) { 10 } else { 0 };
    Stock {
        onway,
        sellable,
        unsellable,
        total: sellable + unsellable,
        ..Stock::default()
    }
}
