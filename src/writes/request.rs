//! The two writes, `CreateOrder` and `CreateAsn`, as the ledger needs to
//! know them: their key, how to send them, and how to ask the warehouse
//! whether one arrived.

use std::future::Future;

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    domain::{
        AsnRef, CallContext, CreatedAsn, CreatedOrder, NewAsn, NewOrder, OrderRef, WarehouseBackend,
    },
    store::WriteKind,
    upstream::UpstreamError,
};

/// One of the two writes, as the ledger needs to know it.
pub trait WriteRequest: Serialize + Send + Sync + 'static {
    /// The warehouse's answer, kept and replayed.
    type Created: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;
    const KIND: WriteKind;
    /// The protocol operation, as errors name it.
    const OPERATION: &'static str;
    /// The request field that is the key, as errors name it.
    const FIELD: &'static str;
    /// What was created, as errors name it.
    const WHAT: &'static str;

    fn number(&self) -> &str;
    fn warehouse_code(&self) -> &str;
    fn send(
        self,
        backend: &dyn WarehouseBackend,
        ctx: &CallContext,
    ) -> impl Future<Output = Result<Self::Created, UpstreamError>> + Send;
    /// The answer for the write with `number` when the warehouse reports
    /// it. Neither spec's lookup carries the warehouse's own number, so
    /// that stays empty.
    fn look_up(
        backend: &dyn WarehouseBackend,
        ctx: &CallContext,
        warehouse_code: String,
        number: String,
    ) -> impl Future<Output = Result<Option<Self::Created>, UpstreamError>> + Send;
}

impl WriteRequest for NewOrder {
    type Created = CreatedOrder;
    const KIND: WriteKind = WriteKind::Order;
    const OPERATION: &'static str = "createOrder";
    const FIELD: &'static str = "order_number";
    const WHAT: &'static str = "an order";

    fn number(&self) -> &str {
        &self.order_number
    }

    fn warehouse_code(&self) -> &str {
        &self.warehouse_code
    }

    async fn send(
        self,
        backend: &dyn WarehouseBackend,
        ctx: &CallContext,
    ) -> Result<CreatedOrder, UpstreamError> {
        backend.create_order(ctx, self).await
    }

    async fn look_up(
        backend: &dyn WarehouseBackend,
        ctx: &CallContext,
        warehouse_code: String,
        order_number: String,
    ) -> Result<Option<CreatedOrder>, UpstreamError> {
        let order = OrderRef {
            order_number,
            ..OrderRef::default()
        };
        let states = backend
            .get_orders(ctx, &warehouse_code, std::slice::from_ref(&order))
            .await?;
        let found = states.iter().any(|state| {
            state.order_number == order.order_number && state.error_message.is_empty()
        });
        Ok(found.then(|| CreatedOrder {
            order_number: order.order_number,
            warehouse_order_number: String::new(),
        }))
    }
}

impl WriteRequest for NewAsn {
    type Created = CreatedAsn;
    const KIND: WriteKind = WriteKind::Asn;
    const OPERATION: &'static str = "createAsnOrder";
    const FIELD: &'static str = "asn_number";
    const WHAT: &'static str = "an ASN";

    fn number(&self) -> &str {
        &self.asn_number
    }

    fn warehouse_code(&self) -> &str {
        &self.warehouse_code
    }

    async fn send(
        self,
        backend: &dyn WarehouseBackend,
        ctx: &CallContext,
    ) -> Result<CreatedAsn, UpstreamError> {
        backend.create_asn(ctx, self).await
    }

    async fn look_up(
        backend: &dyn WarehouseBackend,
        ctx: &CallContext,
        warehouse_code: String,
        asn_number: String,
    ) -> Result<Option<CreatedAsn>, UpstreamError> {
        let asn = AsnRef {
            asn_number,
            ..AsnRef::default()
        };
        let states = backend
            .get_asns(ctx, &warehouse_code, std::slice::from_ref(&asn))
            .await?;
        let found = states
            .iter()
            .any(|state| state.asn_number == asn.asn_number);
        Ok(found.then(|| CreatedAsn {
            asn_number: asn.asn_number,
            wms_asn_number: String::new(),
        }))
    }
}
