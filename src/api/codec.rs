//! The API's gRPC codec: prost's, except that a request is decoded from
//! the one contiguous slice tonic has buffered it in.
//!
//! prost decodes from any [`Buf`]; through tonic's `DecodeBuf` every field
//! read goes through `BytesMut::advance`, which a 20-item order does a few
//! hundred times. A plain `&[u8]` only moves a pointer (BENCHMARKS.md,
//! seventh round). Messages split across chunks, which tonic does not make
//! today, are decoded as before.

use std::marker::PhantomData;

use bytes::Buf;
use prost::Message;
use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::{ProstCodec, ProstEncoder};

/// Used by the generated servers and clients (`codec_path` in `build.rs`).
#[derive(Debug, Clone)]
pub struct SliceCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for SliceCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for SliceCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = SliceDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        SliceDecoder { _type: PhantomData }
    }
}

/// Decodes `U` from the buffered message.
#[derive(Debug)]
pub struct SliceDecoder<U> {
    _type: PhantomData<U>,
}

impl<U: Message + Default> Decoder for SliceDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let len = buf.remaining();
        let decoded = if buf.chunk().len() == len {
            let decoded = U::decode(buf.chunk());
            buf.advance(len);
            decoded
        } else {
            U::decode(&mut *buf)
        };
        // As tonic-prost maps it: a message that does not parse is INTERNAL.
        decoded
            .map(Some)
            .map_err(|error| Status::internal(error.to_string()))
    }
}
