//! The qlink protocol (800best qlink ISV API): one REST path per operation,
//! credentials in headers, the exact body signed. [`QlinkBackend`] ties the
//! skeleton every protocol has together: [`requests`] builds the bodies,
//! [`client`] calls, [`answers`] reads the answers into domain results.
//! Batches (cancel, lookup) are one call each. Nothing here knows gRPC.

mod answers;
mod client;
#[cfg(test)]
mod fuzz;
mod requests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use warehouse_protocol::{Operation, Protocol};

use super::{
    HttpTransport, QlinkCredentials, SetupError, UpstreamError, UpstreamErrorKind,
    client::Client,
    pager::{self, Page, PageAnswer, PageSource},
};
use crate::domain::{
    AsnCancelOutcome, AsnRef, AsnState, CallContext, Channel, CreatedAsn, CreatedOrder,
    InventoryQuery, InventoryStream, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState, SkuInfo,
    SkuUpserted, Warehouse, WarehouseBackend,
};

/// A tenant's warehouse behind qlink.
pub struct QlinkBackend {
    client: Client<client::QlinkSigner>,
    /// `warehouseKey`, in every body.
    warehouse_key: String,
}

impl QlinkBackend {
    /// Builds the URLs and credential headers once; a `base_url` or header
    /// value that cannot be sent stops here, not on the first call.
    pub fn new(
        base_url: &str,
        credentials: &QlinkCredentials,
        transport: HttpTransport,
    ) -> Result<Self, SetupError> {
        Ok(Self {
            client: Client::new(client::QlinkSigner::new(base_url, credentials)?, transport),
            warehouse_key: credentials.warehouse_key.clone(),
        })
    }
}

#[async_trait]
impl WarehouseBackend for QlinkBackend {
    fn protocol(&self) -> &'static str {
        Protocol::Qlink.name()
    }

    async fn list_warehouses(&self, ctx: &CallContext) -> Result<Vec<Warehouse>, UpstreamError> {
        let body = requests::ListBody::new(&self.warehouse_key, "");
        let operation = Operation::ListWarehouses;
        self.client
            .call(ctx, operation, Some(&body), answers::warehouses)
            .await
    }

    async fn list_channels(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
    ) -> Result<Vec<Channel>, UpstreamError> {
        let body = requests::ListBody::new(&self.warehouse_key, warehouse_code);
        let read = |envelope: &_| answers::channels(envelope, warehouse_code);
        self.client
            .call(ctx, Operation::ListChannels, Some(&body), read)
            .await
    }

    async fn create_order(
        &self,
        ctx: &CallContext,
        order: NewOrder,
    ) -> Result<CreatedOrder, UpstreamError> {
        let prepare = |order: &NewOrder| {
            let body = requests::CreateOrder::new(&self.warehouse_key, order);
            self.client.prepare(Operation::CreateOrder, Some(&body))
        };
        let read = answers::created_order;
        self.client.create(ctx, order, prepare, read).await
    }

    async fn cancel_orders(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<ItemOutcome>, UpstreamError> {
        let body = requests::CancelOrder::new(&self.warehouse_key, warehouse_code, orders);
        let read = |envelope: &_| answers::cancelled_orders(envelope, orders);
        self.client
            .call(ctx, Operation::CancelOrder, Some(&body), read)
            .await
    }

    async fn get_orders(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<OrderState>, UpstreamError> {
        let body = requests::GetOrder::new(&self.warehouse_key, warehouse_code, orders);
        let read = |envelope: &_| answers::order_states(envelope, orders);
        self.client
            .call(ctx, Operation::GetOrder, Some(&body), read)
            .await
    }

    async fn create_asn(
        &self,
        ctx: &CallContext,
        asn: NewAsn,
    ) -> Result<CreatedAsn, UpstreamError> {
        let prepare = |asn: &NewAsn| {
            let body = requests::CreateAsnOrder::new(&self.warehouse_key, asn);
            self.client.prepare(Operation::CreateAsn, Some(&body))
        };
        let read = answers::created_asn;
        self.client.create(ctx, asn, prepare, read).await
    }

    async fn get_asns(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        asns: &[AsnRef],
    ) -> Result<Vec<AsnState>, UpstreamError> {
        let body = requests::GetAsnList::new(&self.warehouse_key, warehouse_code, asns);
        self.client
            .call(ctx, Operation::GetAsns, Some(&body), answers::asn_states)
            .await
    }

    async fn cancel_asns(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        asn_numbers: &[String],
    ) -> Result<Vec<AsnCancelOutcome>, UpstreamError> {
        let body = requests::CancelAsnOrder::new(&self.warehouse_key, warehouse_code, asn_numbers);
        let read = |envelope: &_| answers::cancelled_asns(envelope, asn_numbers);
        self.client
            .call(ctx, Operation::CancelAsns, Some(&body), read)
            .await
    }

    /// qlink filters by every SKU at once: one pass.
    fn sync_inventory(self: Arc<Self>, ctx: CallContext, query: InventoryQuery) -> InventoryStream {
        let passes = vec![query.skus.clone()];
        pager::pages(self, ctx, query, passes)
    }

    async fn upsert_sku(
        &self,
        ctx: &CallContext,
        sku: &SkuInfo,
    ) -> Result<SkuUpserted, UpstreamError> {
        let body = requests::InsertSkuInfo::new(&self.warehouse_key, sku);
        let read = |envelope: &_| answers::sku_upserted(envelope, &sku.sku);
        self.client
            .call(ctx, Operation::UpsertSku, Some(&body), read)
            .await
    }
}

#[async_trait]
impl PageSource for QlinkBackend {
    async fn page(&self, ctx: &CallContext, page: Page<'_>) -> Result<PageAnswer, UpstreamError> {
        let body = requests::SyncInventory::new(&self.warehouse_key, page);
        let operation = Operation::SyncInventory;
        self.client
            .call(ctx, operation, Some(&body), answers::inventory_page)
            .await
    }

    fn error(&self, kind: UpstreamErrorKind) -> UpstreamError {
        self.client.error(Operation::SyncInventory, kind)
    }
}
