//! The protobuf codec of the API's services: prost's own, except that a
//! message that does not decode is `INVALID_ARGUMENT` rather than
//! tonic-prost's `INTERNAL`. A garbage request body is the caller's
//! mistake, not the server's, and must read as one (and not page anyone).
//! The generated clients use it too, where it says the same of a garbage
//! answer.

use std::marker::PhantomData;

use bytes::Buf;
use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::{ProstCodec, ProstEncoder};

/// [`ProstCodec`] with decoding errors as `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct RequestCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for RequestCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for RequestCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::default().encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder(PhantomData)
    }
}

/// Decodes `U` with prost, its errors as `INVALID_ARGUMENT`.
#[derive(Debug)]
pub struct RequestDecoder<U>(PhantomData<U>);

impl<U: prost::Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        // tonic has buffered the whole message: prost reads it from those
        // bytes with less work per field than through `DecodeBuf`.
        let message = buf.copy_to_bytes(buf.remaining());
        U::decode(message).map(Some).map_err(|err| {
            Status::invalid_argument(format!(
                "the message is not valid protobuf for this method: {err}"
            ))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}
