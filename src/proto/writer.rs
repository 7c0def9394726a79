// SPDX-License-Identifier: GPL-2.0

//! A cursor that fills a caller's buffer and reports overflow instead of panicking.

/// Appends bytes to a borrowed output buffer; every method answers `None` once it is full.
pub(crate) struct Writer<'o> {
    /// The caller's buffer.
    out: &'o mut [u8],
    /// Bytes written so far, never more than `out.len()`.
    len: usize,
}

impl<'o> Writer<'o> {
    /// Starts writing at the beginning of `out`.
    pub(crate) fn new(out: &'o mut [u8]) -> Self {
        Writer { out, len: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `bytes`, or answers `None` (writing nothing) if they do not fit.
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        self.out.get_mut(self.len..end)?.copy_from_slice(bytes);
        self.len = end;
        Some(())
    }

    /// Appends one byte.
    pub(crate) fn put_byte(&mut self, byte: u8) -> Option<()> {
        self.put(&[byte])
    }

    /// Appends `bytes` percent-encoded (RFC 3986 section 2.1): every byte but the
    /// unreserved ones (section 2.3) becomes `%XX`, so the result is one URI path segment
    /// made of visible ASCII, whatever `bytes` holds.
    pub(crate) fn put_percent_encoded(&mut self, bytes: &[u8]) -> Option<()> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for &b in bytes {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                self.put_byte(b)?;
            } else {
                let high = HEX.get(usize::from(b >> 4))?;
                let low = HEX.get(usize::from(b & 0xf))?;
                self.put(&[b'%', *high, *low])?;
            }
        }
        Some(())
    }

    /// Appends `n` in decimal, without `core::fmt`.
    pub(crate) fn put_u64(&mut self, mut n: u64) -> Option<()> {
        // u64::MAX has 20 digits.
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start = start.checked_sub(1)?;
            *digits.get_mut(start)? = ascii_digit(n);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(digits.get(start..)?)
    }

    /// Appends `n` in lowercase hexadecimal without leading zeros (`0` for zero).
    pub(crate) fn put_hex_u64(&mut self, n: u64) -> Option<()> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Digits after the leading zeros; at least one.
        let len = (64 - n.leading_zeros()).div_ceil(4).max(1);
        for digit in (0..len).rev() {
            let nibble = (n >> (digit * 4)) & 0xf;
            self.put_byte(*HEX.get(usize::try_from(nibble).ok()?)?)?;
        }
        Some(())
    }
}

/// The ASCII digit for the last decimal digit of `n`.
pub(crate) fn ascii_digit(n: u64) -> u8 {
    let digit = usize::try_from(n % 10).unwrap_or(0);
    b"0123456789".get(digit).copied().unwrap_or(b'0')
}
