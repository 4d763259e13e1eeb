//! The operations both protocols offer, as one table: the contract's RPC,
//! the qlink path segment, the Qianyi `method`, and whether it only reads.

/// The two protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// A REST path per operation, credentials and signature in headers.
    Qlink,
    /// One endpoint, `method` + `content` + `sign` in the body.
    Qianyi,
}

impl Protocol {
    /// "qlink" or "qianyi", for logs, metrics and configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Qlink => "qlink",
            Self::Qianyi => "qianyi",
        }
    }
}

/// Whether repeating a call can do harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Lists, lookups, inventory pages: asking twice changes nothing.
    Read,
    /// Creates, cancels, upserts: a second call may do it twice.
    Write,
}

/// One operation, named after the RPC it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ListWarehouses,
    ListChannels,
    CreateOrder,
    CancelOrder,
    GetOrder,
    CreateAsn,
    GetAsns,
    CancelAsns,
    SyncInventory,
    UpsertSku,
}

use Access::{Read, Write};

/// (operation, qlink path segment, Qianyi method, access), as CONTRACT.md
/// lists them.
const TABLE: [(Operation, &str, &str, Access); 10] = [
    (
        Operation::ListWarehouses,
        "initWarehouses",
        "warehouses",
        Read,
    ),
    (Operation::ListChannels, "initChannels", "channels", Read),
    (Operation::CreateOrder, "createOrder", "createOrder", Write),
    (Operation::CancelOrder, "cancelOrder", "cancelOrder", Write),
    (Operation::GetOrder, "getOrder", "getOrder", Read),
    (
        Operation::CreateAsn,
        "createAsnOrder",
        "createAsnOrder",
        Write,
    ),
    (Operation::GetAsns, "getAsnList", "getAsnList", Read),
    (
        Operation::CancelAsns,
        "cancelAsnOrder",
        "cancelAsnOrder",
        Write,
    ),
    (
        Operation::SyncInventory,
        "syncInventory",
        "syncInventory",
        Read,
    ),
    (
        Operation::UpsertSku,
        "insertSkuInfo",
        "insert_sku_info",
        Write,
    ),
];

impl Operation {
    /// Every operation, in the table's order.
    pub const ALL: [Operation; 10] = [
        Self::ListWarehouses,
        Self::ListChannels,
        Self::CreateOrder,
        Self::CancelOrder,
        Self::GetOrder,
        Self::CreateAsn,
        Self::GetAsns,
        Self::CancelAsns,
        Self::SyncInventory,
        Self::UpsertSku,
    ];

    fn row(self) -> &'static (Operation, &'static str, &'static str, Access) {
        // The table has a row for every variant, in `ALL`'s order.
        &TABLE[self as usize]
    }

    /// Its name on the wire of `protocol`: the qlink path segment or the
    /// Qianyi `method`.
    pub fn name(self, protocol: Protocol) -> &'static str {
        let (_, qlink, qianyi, _) = self.row();
        match protocol {
            Protocol::Qlink => qlink,
            Protocol::Qianyi => qianyi,
        }
    }

    pub fn access(self) -> Access {
        self.row().3
    }

    /// The operation `protocol` calls `name`.
    pub fn named(protocol: Protocol, name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|operation| operation.name(protocol) == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_operation_in_order() {
        for (index, operation) in Operation::ALL.into_iter().enumerate() {
            assert_eq!(TABLE[index].0, operation);
            for protocol in [Protocol::Qlink, Protocol::Qianyi] {
                assert_eq!(
                    Operation::named(protocol, operation.name(protocol)),
                    Some(operation)
                );
            }
        }
        assert_eq!(
            Operation::UpsertSku.name(Protocol::Qianyi),
            "insert_sku_info"
        );
        assert_eq!(Operation::GetOrder.access(), Access::Read);
        assert_eq!(Operation::CancelAsns.access(), Access::Write);
        assert_eq!(Operation::named(Protocol::Qlink, "warehouses"), None);
    }
}
