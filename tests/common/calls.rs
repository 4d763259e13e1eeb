//! The facade's RPCs as one tenant makes them: [`Caller`] puts the tenant's
//! metadata (and its token or deadline, when given) on every request and
//! hands back the answer's message, or the status. What the tests read from
//! a stream (the next event, every page) is here too.

use std::time::Duration;

use futures::{Stream, StreamExt};
use qlink_facade::proto::{
    AsnCancelResult, AsnInfo, CancelAsnsRequest, CancelOrdersRequest, Channel as WarehouseChannel,
    CreateAsnRequest, CreateAsnResponse, CreateOrderRequest, CreateOrderResponse, GetAsnsRequest,
    GetOrdersRequest, ListChannelsRequest, OrderCancelResult, OrderInfo, OrderRef,
    SyncInventoryRequest, SyncInventoryResponse, UpsertSkuRequest, UpsertSkuResponse, Warehouse,
    WatchAsnEventsRequest, WatchAsnEventsResponse, WatchOrderEventsRequest,
    WatchOrderEventsResponse, asn_service_client::AsnServiceClient,
    inventory_service_client::InventoryServiceClient, order_service_client::OrderServiceClient,
    sku_service_client::SkuServiceClient, warehouse_service_client::WarehouseServiceClient,
};
use tonic::{Request, Response, Status, Streaming, transport::Channel};

use super::{Facade, req};

/// What a call answers: its message, or the status.
pub type Answer<T> = Result<T, Status>;

/// One tenant's calls to a facade.
#[derive(Clone)]
pub struct Caller {
    channel: Channel,
    tenant: String,
    token: Option<String>,
    timeout: Option<Duration>,
}

impl Facade {
    /// The calls `tenant` makes to this facade.
    pub fn caller(&self, tenant: &str) -> Caller {
        Caller::new(self.channel(), tenant)
    }
}

impl Caller {
    pub fn new(channel: Channel, tenant: &str) -> Self {
        Self {
            channel,
            tenant: tenant.to_owned(),
            token: None,
            timeout: None,
        }
    }

    /// Every call with `Authorization: Bearer {token}`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Every call with this `grpc-timeout`, when given.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// `message` as this tenant sends it.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = req(&self.tenant, message);
        if let Some(token) = &self.token {
            let bearer = format!("Bearer {token}").parse().expect("ascii");
            request.metadata_mut().insert("authorization", bearer);
        }
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }

    /// `message` sent with `rpc` on a client `new` makes of the facade's
    /// channel: the answer's message, or the status.
    async fn unary<C, M, R>(
        &self,
        new: impl FnOnce(Channel) -> C,
        rpc: impl AsyncFnOnce(&mut C, Request<M>) -> Result<Response<R>, Status>,
        message: M,
    ) -> Answer<R> {
        let mut client = new(self.channel.clone());
        let answer = rpc(&mut client, self.request(message)).await?;
        Ok(answer.into_inner())
    }

    pub async fn list_warehouses(&self) -> Answer<Vec<Warehouse>> {
        let list = WarehouseServiceClient::list_warehouses;
        let answer = self.unary(WarehouseServiceClient::new, list, Default::default());
        Ok(answer.await?.warehouses)
    }

    pub async fn list_channels(&self, warehouse_code: &str) -> Answer<Vec<WarehouseChannel>> {
        let request = ListChannelsRequest {
            warehouse_code: warehouse_code.to_owned(),
        };
        let answer = self
            .unary(
                WarehouseServiceClient::new,
                WarehouseServiceClient::list_channels,
                request,
            )
            .await?;
        Ok(answer.channels)
    }

    pub async fn create_order(&self, order: CreateOrderRequest) -> Answer<CreateOrderResponse> {
        self.unary(
            OrderServiceClient::new,
            OrderServiceClient::create_order,
            order,
        )
        .await
    }

    /// GetOrders for the orders numbered `numbers`, in that order.
    pub async fn get_orders(
        &self,
        warehouse_code: &str,
        numbers: &[impl AsRef<str>],
    ) -> Answer<Vec<OrderInfo>> {
        let request = GetOrdersRequest {
            warehouse_code: warehouse_code.to_owned(),
            orders: order_refs(numbers),
        };
        let answer = self
            .unary(
                OrderServiceClient::new,
                OrderServiceClient::get_orders,
                request,
            )
            .await?;
        Ok(answer.orders)
    }

    /// CancelOrders for the orders numbered `numbers`, in that order.
    pub async fn cancel_orders(
        &self,
        warehouse_code: &str,
        numbers: &[impl AsRef<str>],
    ) -> Answer<Vec<OrderCancelResult>> {
        let request = CancelOrdersRequest {
            warehouse_code: warehouse_code.to_owned(),
            orders: order_refs(numbers),
        };
        let answer = self
            .unary(
                OrderServiceClient::new,
                OrderServiceClient::cancel_orders,
                request,
            )
            .await?;
        Ok(answer.results)
    }

    pub async fn create_asn(&self, asn: CreateAsnRequest) -> Answer<CreateAsnResponse> {
        self.unary(AsnServiceClient::new, AsnServiceClient::create_asn, asn)
            .await
    }

    pub async fn get_asns(&self, lookup: GetAsnsRequest) -> Answer<Vec<AsnInfo>> {
        let answer = self
            .unary(AsnServiceClient::new, AsnServiceClient::get_asns, lookup)
            .await?;
        Ok(answer.asns)
    }

    pub async fn cancel_asns(
        &self,
        warehouse_code: &str,
        asn_numbers: Vec<String>,
    ) -> Answer<Vec<AsnCancelResult>> {
        let request = CancelAsnsRequest {
            warehouse_code: warehouse_code.to_owned(),
            asn_numbers,
        };
        let answer = self
            .unary(
                AsnServiceClient::new,
                AsnServiceClient::cancel_asns,
                request,
            )
            .await?;
        Ok(answer.results)
    }

    pub async fn upsert_sku(&self, sku: UpsertSkuRequest) -> Answer<UpsertSkuResponse> {
        self.unary(SkuServiceClient::new, SkuServiceClient::upsert_sku, sku)
            .await
    }

    /// SyncInventory, as it streams.
    pub async fn inventory(
        &self,
        query: SyncInventoryRequest,
    ) -> Answer<Streaming<SyncInventoryResponse>> {
        self.unary(
            InventoryServiceClient::new,
            InventoryServiceClient::sync_inventory,
            query,
        )
        .await
    }

    /// Every page of a SyncInventory stream, which must open and whose
    /// pages must all be OK.
    pub async fn inventory_pages(&self, query: SyncInventoryRequest) -> Vec<SyncInventoryResponse> {
        let pages = self.inventory(query).await.expect("sync inventory");
        pages.map(|page| page.expect("page")).collect().await
    }

    pub async fn watch_orders(
        &self,
        after_event_id: u64,
    ) -> Answer<Streaming<WatchOrderEventsResponse>> {
        let request = WatchOrderEventsRequest { after_event_id };
        self.unary(
            OrderServiceClient::new,
            OrderServiceClient::watch_order_events,
            request,
        )
        .await
    }

    pub async fn watch_asns(
        &self,
        after_event_id: u64,
    ) -> Answer<Streaming<WatchAsnEventsResponse>> {
        let request = WatchAsnEventsRequest { after_event_id };
        self.unary(
            AsnServiceClient::new,
            AsnServiceClient::watch_asn_events,
            request,
        )
        .await
    }
}

/// Order references by number alone.
pub fn order_refs(numbers: &[impl AsRef<str>]) -> Vec<OrderRef> {
    numbers
        .iter()
        .map(|number| OrderRef {
            order_number: number.as_ref().to_owned(),
            ..Default::default()
        })
        .collect()
}

/// The next message of `stream`, which must come and be OK.
pub async fn next_ok<T>(stream: &mut (impl Stream<Item = Result<T, Status>> + Unpin)) -> T {
    stream.next().await.expect("an event").expect("ok")
}

/// The next message of `stream`, which must come OK within `limit`;
/// `what` names it when it does not.
pub async fn next_within<T>(
    stream: &mut (impl Stream<Item = Result<T, Status>> + Unpin),
    limit: Duration,
    what: &str,
) -> T {
    let next = tokio::time::timeout(limit, stream.next()).await;
    next.expect(what).expect("an event").expect("ok")
}
