//! The one trait every warehouse protocol implements. Protocol differences
//! (batch versus one call per item, response shapes, method names) stay in
//! the implementations. Every call takes the caller's [`CallContext`].

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;

use super::*;
use crate::upstream::UpstreamError;

/// A lazy stream of inventory pages: the next page is fetched only when the
/// stream is polled, so dropping it stops the paging.
pub type InventoryStream = BoxStream<'static, Result<InventoryPage, UpstreamError>>;

/// A tenant's warehouse, reached over one of the protocols.
#[async_trait]
pub trait WarehouseBackend: Send + Sync + 'static {
    /// The protocol's name, for logs and metrics ("qlink", "qianyi").
    fn protocol(&self) -> &'static str;

    /// All warehouses the tenant can ship from.
    async fn list_warehouses(&self, ctx: &CallContext) -> Result<Vec<Warehouse>, UpstreamError>;

    /// Logistics channels; `warehouse_code` empty means all warehouses.
    async fn list_channels(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
    ) -> Result<Vec<Channel>, UpstreamError>;

    /// Creates one order. A per-item `success:false` is [`UpstreamError`]
    /// of kind `Rejected`.
    async fn create_order(
        &self,
        ctx: &CallContext,
        order: NewOrder,
    ) -> Result<CreatedOrder, UpstreamError>;

    /// Cancels orders; one outcome per input order, in input order.
    async fn cancel_orders(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<ItemOutcome>, UpstreamError>;

    /// Looks orders up; one state per input order, in input order.
    async fn get_orders(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<OrderState>, UpstreamError>;

    /// Creates one ASN; a per-item `success:false` is a `Rejected` error.
    async fn create_asn(&self, ctx: &CallContext, asn: NewAsn)
    -> Result<CreatedAsn, UpstreamError>;

    /// Looks ASNs up; the ASNs the warehouse reported.
    async fn get_asns(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        asns: &[AsnRef],
    ) -> Result<Vec<AsnState>, UpstreamError>;

    /// Cancels ASNs; one outcome per input ASN, in input order.
    async fn cancel_asns(
        &self,
        ctx: &CallContext,
        warehouse_code: &str,
        asn_numbers: &[String],
    ) -> Result<Vec<AsnCancelOutcome>, UpstreamError>;

    /// Pages through the inventory lazily, one item per upstream page, each
    /// page's calls under `ctx` (its deadline bounds the whole stream).
    fn sync_inventory(self: Arc<Self>, ctx: CallContext, query: InventoryQuery) -> InventoryStream;

    /// Creates or updates one product.
    async fn upsert_sku(
        &self,
        ctx: &CallContext,
        sku: &SkuInfo,
    ) -> Result<SkuUpserted, UpstreamError>;
}
