//! The Qianyi protocol: one endpoint taking `{accessId, method, content,
//! sign}`, the signature over the exact `content` string, flat answers with
//! `success` and `message`. [`QianyiBackend`] ties the skeleton every
//! protocol has together: [`requests`] builds the contents, [`client`]
//! calls, [`answers`] reads the answers into domain results. Qianyi takes
//! one order per cancel or lookup, so a batch is that many calls, run
//! concurrently. Nothing here knows gRPC.

mod answers;
mod client;
#[cfg(test)]
mod fuzz;
mod requests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt, stream};
use warehouse_protocol::{Operation, Protocol};

use super::{
    HttpTransport, QianyiCredentials, SetupError, UpstreamError, UpstreamErrorKind,
    client::Client,
    pager::{self, Page, PageAnswer, PageSource},
};
use crate::domain::{
    AsnCancelOutcome, AsnRef, AsnState, CallContext, Channel, CreatedAsn, CreatedOrder,
    InventoryQuery, InventoryStream, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState, SkuInfo,
    SkuUpserted, Warehouse, WarehouseBackend,
};

/// Per-order calls (cancelOrder, getOrder) in flight at once for one batch.
const MAX_IN_FLIGHT_PER_BATCH: usize = 8;

/// A tenant's Qianyi warehouse.
pub struct QianyiBackend {
    client: Client<client::QianyiSigner>,
}

impl QianyiBackend {
    /// Builds the endpoint URL and headers once; a `base_url` or header
    /// value that cannot be sent stops here, not on the first call.
    pub fn new(
        endpoint: &str,
        credentials: &QianyiCredentials,
        transport: HttpTransport,
    ) -> Result<Self, SetupError> {
        Ok(Self {
            client: Client::new(client::QianyiSigner::new(endpoint, credentials)?, transport),
        })
    }

    /// One cancelOrder or getOrder call, about `order`.
    async fn order_call<T>(
        &self,
        ctx: &CallContext,
        operation: Operation,
        warehouse_code: &str,
        order: &OrderRef,
        read: impl FnOnce(&warehouse_protocol::Envelope) -> Result<T, UpstreamErrorKind>,
    ) -> Result<T, UpstreamError> {
        let content = requests::OrderKey {
            order_number: &order.order_number,
            warehouse_code,
            warehouse_order_number: &order.warehouse_order_number,
        };
        self.client.call(ctx, operation, Some(&content), read).await
    }
}

#[async_trait]
impl WarehouseBackend for QianyiBackend {
    fn protocol(&self) -> &'static str {
        Protocol::Qianyi.name()
    }

    async fn list_warehouses(&self, ctx: &CallContext) -> Result<Vec<Warehouse>, UpstreamError> {
        let (operation, none) = (Operation::ListWarehouses, requests::NO_CONTENT);
        self.client
            .call(ctx, operation, none, answers::warehouses)
            .await
    }

    async fn list_channels(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
    ) -> Result<Vec<Channel>, UpstreamError> {
        let filter =
            (!warehouse_code.is_empty()).then_some(requests::WarehouseFilter { warehouse_code });
        let read = |envelope: &_| answers::channels(envelope, warehouse_code);
        self.client
            .call(ctx, Operation::ListChannels, filter.as_ref(), read)
            .await
    }

    async fn create_order(
        &self,
        ctx: &CallContext,
        order: NewOrder,
    ) -> Result<CreatedOrder, UpstreamError> {
        let prepare = |order: &NewOrder| {
            let content = requests::order(order);
            self.client.prepare(Operation::CreateOrder, Some(&content))
        };
        let read = answers::created_order;
        self.client.create(ctx, order, prepare, read).await
    }

    /// A write: every order gets its outcome, whatever happened to the others.
    async fn cancel_orders(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<ItemOutcome>, UpstreamError> {
        // The futures are built up front (lazy until polled): a closure in
        // the stream would not be `Send` for every lifetime async_trait needs.
        let calls: Vec<_> = orders
            .iter()
            .map(|order| async move {
                let read = |envelope: &_| answers::order_cancelled(envelope, &order.order_number);
                let outcome =
                    self.order_call(ctx, Operation::CancelOrder, warehouse_code, order, read);
                (order.order_number.clone(), outcome.await)
            })
            .collect();
        let answers: Vec<_> = stream::iter(calls)
            .buffered(MAX_IN_FLIGHT_PER_BATCH)
            .collect()
            .await;
        answers::batch_outcomes(answers)
    }

    /// A read: any failure but a refusal fails the whole batch, which the
    /// caller may retry as a whole.
    async fn get_orders(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<OrderState>, UpstreamError> {
        let calls: Vec<_> = orders
            .iter()
            .map(|order| {
                let read = |envelope: &_| answers::order_state(envelope, &order.order_number);
                self.order_call(ctx, Operation::GetOrder, warehouse_code, order, read)
            })
            .collect();
        stream::iter(calls)
            .buffered(MAX_IN_FLIGHT_PER_BATCH)
            .try_collect()
            .await
    }

    async fn create_asn(
        &self,
        ctx: &CallContext,
        asn: NewAsn,
    ) -> Result<CreatedAsn, UpstreamError> {
        let prepare = |asn: &NewAsn| {
            let content = requests::asn(asn);
            self.client.prepare(Operation::CreateAsn, Some(&content))
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
        let numbers = asns.iter().map(|asn| asn.asn_number.as_str());
        let content = requests::AsnNumbers::new(numbers, warehouse_code);
        self.client
            .call(ctx, Operation::GetAsns, Some(&content), answers::asn_states)
            .await
    }

    async fn cancel_asns(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        asn_numbers: &[String],
    ) -> Result<Vec<AsnCancelOutcome>, UpstreamError> {
        let content =
            requests::AsnNumbers::new(asn_numbers.iter().map(String::as_str), warehouse_code);
        let read = |envelope: &_| answers::cancelled_asns(envelope, asn_numbers);
        self.client
            .call(ctx, Operation::CancelAsns, Some(&content), read)
            .await
    }

    /// Qianyi filters by one SKU at most, so several SKUs are paged one
    /// after the other; it has no time filter, so `updated_since` is not sent.
    fn sync_inventory(self: Arc<Self>, ctx: CallContext, query: InventoryQuery) -> InventoryStream {
        let passes = if query.skus.is_empty() {
            vec![Vec::new()]
        } else {
            query.skus.iter().map(|sku| vec![sku.clone()]).collect()
        };
        pager::pages(self, ctx, query, passes)
    }

    async fn upsert_sku(
        &self,
        ctx: &CallContext,
        sku: &SkuInfo,
    ) -> Result<SkuUpserted, UpstreamError> {
        let content = requests::Sku::new(sku);
        let read = |envelope: &_| answers::sku_upserted(envelope, &sku.sku);
        self.client
            .call(ctx, Operation::UpsertSku, Some(&content), read)
            .await
    }
}

#[async_trait]
impl PageSource for QianyiBackend {
    async fn page(&self, ctx: &CallContext, page: Page<'_>) -> Result<PageAnswer, UpstreamError> {
        let content = requests::SyncInventory::new(page);
        let read = answers::inventory_page;
        self.client
            .call(ctx, Operation::SyncInventory, Some(&content), read)
            .await
    }

    fn error(&self, kind: UpstreamErrorKind) -> UpstreamError {
        self.client.error(Operation::SyncInventory, kind)
    }
}
