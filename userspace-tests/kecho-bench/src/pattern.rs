//! Byte patterns that make a wrong echo detectable: each message depends on the client id
//! and round, the stream on the byte offset.

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Fills `buf` with the message of `client` in `round`.
pub fn fill_message(buf: &mut [u8], client: u32, round: u32) {
    let seed = splitmix64((u64::from(client) << 32) | u64::from(round));
    for (index, chunk) in buf.chunks_mut(8).enumerate() {
        let word = splitmix64(seed ^ index as u64).to_le_bytes();
        chunk.copy_from_slice(word.get(..chunk.len()).unwrap_or_default());
    }
}

/// The stream client's byte at `offset`: period 251 against power-of-two chunk sizes, so a
/// dropped, repeated or reordered chunk shows.
pub fn stream_byte(offset: u64) -> u8 {
    ((offset % 251) as u8) ^ ((offset >> 16) as u8)
}

/// Fills `buf` with the stream bytes starting at `offset`.
pub fn fill_stream(buf: &mut [u8], offset: u64) {
    for (index, byte) in buf.iter_mut().enumerate() {
        *byte = stream_byte(offset + index as u64);
    }
}

/// The first offset where `got` differs from the stream bytes starting at `offset`.
pub fn check_stream(got: &[u8], offset: u64) -> Option<u64> {
    got.iter()
        .enumerate()
        .find(|(index, &byte)| byte != stream_byte(offset + *index as u64))
        .map(|(index, _)| offset + index as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_differ_by_client_and_round() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        fill_message(&mut a, 1, 0);
        fill_message(&mut b, 1, 1);
        assert_ne!(a, b);
        fill_message(&mut b, 2, 0);
        assert_ne!(a, b);
        fill_message(&mut b, 1, 0);
        assert_eq!(a, b);
        let mut odd = [0u8; 13];
        fill_message(&mut odd, 1, 0);
        assert_eq!(odd[..], a[..13]);
    }

    #[test]
    fn stream_check_finds_the_first_wrong_byte() {
        let mut buf = vec![0u8; 70_000];
        fill_stream(&mut buf, 1000);
        assert_eq!(check_stream(&buf, 1000), None);
        assert_eq!(check_stream(&buf, 1024), Some(1024));
        buf[500] ^= 1;
        assert_eq!(check_stream(&buf, 1000), Some(1500));
    }
}
