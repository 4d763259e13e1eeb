//! InventoryService: stream stock levels page by page.
//!
//! A spawned pager pulls the backend's lazy page stream and writes into a
//! bounded channel of one: at most one page waits for a slow caller, and when
//! the caller goes away the send fails, the pager drops the stream and no
//! further page is requested.

use futures::StreamExt;
use tokio::{sync::mpsc, time::Instant};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::{FacadeApi, caller_deadline, error::failed, status};
use crate::{
    domain::{CallContext, InventoryQuery},
    proto::{self, inventory_service_server::InventoryService},
};

/// Pages converted but not yet taken by the caller.
const PAGES_IN_FLIGHT: usize = 1;
/// How long a stream whose caller set no deadline may run in all.
const STREAM_WITHOUT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3600);

#[tonic::async_trait]
impl InventoryService for FacadeApi {
    type SyncInventoryStream = ReceiverStream<Result<proto::SyncInventoryResponse, Status>>;

    async fn sync_inventory(
        &self,
        request: Request<proto::SyncInventoryRequest>,
    ) -> Result<Response<Self::SyncInventoryStream>, Status> {
        let tenant = self.tenant(&request).map_err(status)?;
        // A caller deadline bounds the whole stream.
        let ctx = CallContext::until(
            caller_deadline(&request).unwrap_or_else(|| Instant::now() + STREAM_WITHOUT_DEADLINE),
        );
        let query = InventoryQuery::try_from(request.into_inner()).map_err(failed)?;
        let mut pages = tenant.backend.clone().sync_inventory(ctx, query);
        let (sender, receiver) = mpsc::channel(PAGES_IN_FLIGHT);
        // In the call's span, so every page's upstream call continues its trace.
        let pager = async move {
            while let Some(page) = pages.next().await {
                // An error is the stream's last message.
                let last = page.is_err();
                let message = page.map(proto::SyncInventoryResponse::from).map_err(failed);
                if sender.send(message).await.is_err() {
                    tracing::debug!(tenant = %tenant.id, "inventory caller went away; paging stopped");
                    break;
                }
                if last {
                    break;
                }
            }
        };
        tokio::spawn(pager.in_current_span());
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
