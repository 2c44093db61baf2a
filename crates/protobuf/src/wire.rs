//! Protocol buffer wire format reading: varints, fixed-width values and length-delimited fields.

use crate::error::{ProtobufError, Result};

/// Wire type of a varint.
pub const VARINT: u8 = 0;
/// Wire type of a little-endian 64-bit value.
pub const FIXED64: u8 = 1;
/// Wire type of a length-delimited value.
pub const LEN: u8 = 2;
/// Wire type of a little-endian 32-bit value.
pub const FIXED32: u8 = 5;

/// One field's payload as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Payload<'a> {
    /// A varint, undecoded.
    Varint(u64),
    /// A fixed 64-bit value.
    Fixed64(u64),
    /// A fixed 32-bit value.
    Fixed32(u32),
    /// Length-delimited bytes.
    Bytes(&'a [u8]),
}

impl Payload<'_> {
    /// The wire type this payload came with.
    pub fn wire_type(&self) -> u8 {
        match self {
            Payload::Varint(_) => VARINT,
            Payload::Fixed64(_) => FIXED64,
            Payload::Fixed32(_) => FIXED32,
            Payload::Bytes(_) => LEN,
        }
    }
}

/// Reads fields one after another from a message's bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Reads one varint.
    pub fn varint(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        for (i, byte) in self.buf.iter().enumerate().take(10) {
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                return Err(ProtobufError::VarintOverflow);
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() >= 10 {
            Err(ProtobufError::VarintOverflow)
        } else {
            Err(ProtobufError::Truncated("a varint"))
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(ProtobufError::Truncated(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Reads the next field: its number and payload. `None` at the end.
    pub fn field(&mut self) -> Result<Option<(u64, Payload<'a>)>> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let tag = key >> 3;
        let wire = (key & 7) as u8;
        let payload = match wire {
            VARINT => Payload::Varint(self.varint()?),
            FIXED64 => {
                let b = self.take(8, "a fixed64 value")?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Payload::Fixed64(u64::from_le_bytes(a))
            }
            LEN => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| ProtobufError::Truncated("a length"))?;
                Payload::Bytes(self.take(len, "a length-delimited field")?)
            }
            FIXED32 => {
                let b = self.take(4, "a fixed32 value")?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                Payload::Fixed32(u32::from_le_bytes(a))
            }
            other => return Err(ProtobufError::UnsupportedWireType { tag, wire: other }),
        };
        Ok(Some((tag, payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_varints_of_every_length() {
        let mut r = Reader::new(&[
            0x96, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        assert_eq!(r.varint().unwrap(), 150);
        assert_eq!(r.varint().unwrap(), 0);
        assert_eq!(r.varint().unwrap(), u64::MAX);
        assert!(r.is_empty());
    }

    #[test]
    fn rejects_overlong_and_truncated_varints() {
        assert!(matches!(
            Reader::new(&[0xff; 11]).varint(),
            Err(ProtobufError::VarintOverflow)
        ));
        assert!(matches!(
            Reader::new(&[0x80, 0x80]).varint(),
            Err(ProtobufError::Truncated(_))
        ));
    }

    #[test]
    fn reads_fields_of_each_wire_type() {
        let buf = [
            0x08, 0x05, // 1: varint 5
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1a, 0x02, b'h', b'i', // 3: bytes "hi"
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        let mut r = Reader::new(&buf);
        assert_eq!(r.field().unwrap(), Some((1, Payload::Varint(5))));
        assert_eq!(r.field().unwrap(), Some((2, Payload::Fixed64(1))));
        assert_eq!(r.field().unwrap(), Some((3, Payload::Bytes(b"hi"))));
        assert_eq!(r.field().unwrap(), Some((4, Payload::Fixed32(2))));
        assert_eq!(r.field().unwrap(), None);
    }

    #[test]
    fn rejects_lengths_past_the_end_and_groups() {
        assert!(matches!(
            Reader::new(&[0x0a, 0x05, b'a']).field(),
            Err(ProtobufError::Truncated(_))
        ));
        assert!(matches!(
            Reader::new(&[0x0b]).field(),
            Err(ProtobufError::UnsupportedWireType { wire: 3, .. })
        ));
    }
}
