//! The `Watch*Events` streams: the tenant's kept events after the caller's
//! cursor, then each new one as it is pushed (`push::watch` pages them from
//! the store); here they become messages, and a stream's end its status.

use futures::{StreamExt, stream::BoxStream};
use tonic::{Response, Status};

use super::{FacadeApi, receives_pushes};
use crate::{
    proto,
    push::{
        AsnEvent, Event, OrderEvent,
        watch::{self, Pushed, WatchError},
    },
    tenant::Tenant,
};

/// A stream as the generated servers return it.
pub type EventStream<M> = BoxStream<'static, Result<M, Status>>;

impl FacadeApi {
    /// Follows `tenant`'s events of kind `T` from `after`, as messages. A
    /// tenant that receives no pushes, a cursor retention has overtaken, or
    /// a tenant with all its streams open is refused before the stream
    /// starts.
    pub(super) async fn follow_events<T: Pushed, M: Send + 'static>(
        &self,
        tenant: &Tenant,
        after: u64,
        convert: fn(Event<T>) -> M,
    ) -> Result<Response<EventStream<M>>, Status> {
        receives_pushes(tenant)?;
        let slot = self.watches.open(&tenant.id).map_err(watch_status)?;
        watch::check_cursor::<T>(&*self.store, &tenant.id, after)
            .await
            .map_err(watch_status)?;
        let stream = watch::follow(self.store.clone(), tenant.id.clone(), after, convert, slot);
        Ok(Response::new(
            stream.map(|item| item.map_err(watch_status)).boxed(),
        ))
    }
}

/// How a stream ends when it cannot go on.
fn watch_status(err: WatchError) -> Status {
    match &err {
        WatchError::Pruned { .. } => Status::out_of_range(err.to_string()),
        WatchError::Store(store) => {
            tracing::warn!(error = %store, "an event stream ended: the store failed");
            Status::unavailable(err.to_string())
        }
        WatchError::TooMany { tenant, .. } => {
            tracing::warn!(tenant = %tenant, "an event stream was refused: the tenant has as many open as it may");
            Status::resource_exhausted(err.to_string())
        }
        WatchError::ShuttingDown { .. } => Status::unavailable(err.to_string()),
    }
}

fn timestamp_ms(ms: Option<i64>) -> Option<prost_types::Timestamp> {
    let ms = ms?;
    Some(prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    })
}

pub fn order_event(event: Event<OrderEvent>) -> proto::WatchOrderEventsResponse {
    let body = event.body;
    proto::WatchOrderEventsResponse {
        event_id: event.id,
        received_at: Some(event.received_at.into()),
        order_number: body.order_number,
        online_order_id: body.online_order_id,
        warehouse_code: body.warehouse_code,
        customer_code: body.customer_code,
        carrier: body.carrier,
        track_number: body.track_number,
        warehouse_order_number: body.warehouse_order_number,
        wms_status: body.wms_status,
        status: body
            .status
            .map_or(proto::OrderStatus::Unspecified, proto::OrderStatus::from)
            .into(),
        shipping_time: timestamp_ms(body.shipping_time_ms),
        items: body
            .items
            .into_iter()
            .map(|(sku, quantity)| proto::PushedOrderItem { sku, quantity })
            .collect(),
        error_msg: body.error_msg,
    }
}

pub fn asn_event(event: Event<AsnEvent>) -> proto::WatchAsnEventsResponse {
    let body = event.body;
    proto::WatchAsnEventsResponse {
        event_id: event.id,
        received_at: Some(event.received_at.into()),
        asn_number: body.asn_number,
        warehouse_code: body.warehouse_code,
        customer_code: body.customer_code,
        wms_status: body.wms_status,
        status: body
            .status
            .map_or(proto::AsnStatus::Unspecified, proto::AsnStatus::from)
            .into(),
        reference_number: body.reference_number,
        finish_time: timestamp_ms(body.finish_time_ms),
        update_time: timestamp_ms(body.update_time_ms),
        items: body.items.into_iter().map(Into::into).collect(),
        batch_no: body.batch_no,
    }
}
