// SPDX-License-Identifier: GPL-2.0

//! Property tests: every decoder fed random bytes returns (an error or a value) and never
//! panics; well-formed messages with random contents decode to exactly those contents.

use ktcp_tls_agent::codec::{self, DoneRequest, Message, RawAttr, Received};
use ktcp_tls_agent::record;
use proptest::prelude::*;

const FAMILY: u16 = 0x1c;

/// A netlink message of type `msg_type` around `payload`, its length field correct, so that
/// the random bytes reach the genl header and attribute parsers.
fn framed(msg_type: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + payload.len());
    out.extend_from_slice(&(16 + payload.len() as u32).to_ne_bytes());
    out.extend_from_slice(&msg_type.to_ne_bytes());
    out.extend_from_slice(&0u16.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(payload);
    out
}

fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(4 + value.len() as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

fn msg_types() -> impl Strategy<Value = u16> {
    prop_oneof![Just(2u16), Just(3), Just(0x10), Just(FAMILY), any::<u16>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn random_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                    family in any::<u16>()) {
        let _ = codec::decode_datagram(&bytes, family);
        let _ = codec::decode_message(&bytes, family);
    }

    #[test]
    fn random_payloads_in_valid_frames_never_panic(
        msg_type in msg_types(),
        seq in any::<u32>(),
        payload in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let bytes = framed(msg_type, seq, &payload);
        for decoded in codec::decode_datagram(&bytes, FAMILY) {
            if let Ok(Received { message: Message::Accept(Some(reply)), .. }) = decoded {
                prop_assert!(reply.sockfd >= 0);
            }
        }
    }

    #[test]
    fn random_attribute_lists_never_panic(
        attrs in proptest::collection::vec(
            (0u16..10, proptest::collection::vec(any::<u8>(), 0..24)), 0..12),
        cmd in 0u8..5,
    ) {
        let raw: Vec<RawAttr> = attrs
            .iter()
            .map(|(kind, value)| RawAttr { kind: *kind, value: value.clone() })
            .collect();
        if let Ok(Some(reply)) = codec::decode_accept(&raw) {
            prop_assert!(reply.sockfd >= 0);
        }
        let mut payload = vec![cmd, 1, 0, 0];
        for (kind, value) in &attrs {
            payload.extend_from_slice(&nla(*kind, value));
        }
        let _ = codec::decode_datagram(&framed(FAMILY, 1, &payload), FAMILY);
    }

    #[test]
    fn mutated_accept_replies_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let cert = [nla(1, &7i32.to_ne_bytes()), nla(2, &8i32.to_ne_bytes())].concat();
        let attrs = [
            nla(1, &5i32.to_ne_bytes()),
            nla(3, &2u32.to_ne_bytes()),
            nla(8, b"peer\0"),
            nla(4, &1000u32.to_ne_bytes()),
            nla(5, &3u32.to_ne_bytes()),
            nla(7 | 0x8000, &cert),
        ]
        .concat();
        let mut payload = vec![codec::CMD_ACCEPT, 1, 0, 0];
        payload.extend_from_slice(&attrs);
        let mut bytes = framed(FAMILY, 9, &payload);
        for (at, value) in flips {
            let len = bytes.len();
            bytes[at % len] ^= value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = codec::decode_datagram(&bytes, FAMILY);
    }

    #[test]
    fn well_formed_accept_replies_decode_to_their_fields(
        sockfd in 0i32..=i32::MAX,
        message_type in 0u32..4,
        timeout in any::<u32>(),
        auth in 0u32..5,
        peername in "[a-z0-9.-]{0,40}",
        identities in proptest::collection::vec(any::<u32>(), 0..5),
    ) {
        let mut name = peername.clone().into_bytes();
        name.push(0);
        let mut attrs = vec![
            nla(1, &sockfd.to_ne_bytes()),
            nla(3, &message_type.to_ne_bytes()),
            nla(8, &name),
            nla(4, &timeout.to_ne_bytes()),
            nla(5, &auth.to_ne_bytes()),
        ];
        attrs.extend(identities.iter().map(|id| nla(6, &id.to_ne_bytes())));
        let mut payload = vec![codec::CMD_ACCEPT, 1, 0, 0];
        payload.extend_from_slice(&attrs.concat());
        let decoded = codec::decode_datagram(&framed(FAMILY, 4, &payload), FAMILY);
        prop_assert_eq!(decoded.len(), 1);
        let Ok(Received { seq: 4, message: Message::Accept(Some(reply)) }) = &decoded[0] else {
            return Err(TestCaseError::fail(format!("{decoded:?}")));
        };
        prop_assert_eq!(reply.sockfd, sockfd);
        prop_assert_eq!(reply.message_type, codec::MsgType::from(message_type));
        prop_assert_eq!(reply.timeout_ms, (timeout != 0).then_some(timeout));
        prop_assert_eq!(reply.auth_mode, codec::AuthMode::from(auth));
        prop_assert_eq!(reply.peername.as_deref(), Some(peername.as_str()));
        prop_assert_eq!(&reply.peer_identities, &identities);
    }

    #[test]
    fn done_requests_frame_and_carry_their_values(
        status in 0u32..=4095,
        sockfd in any::<i32>(),
        remote_auth in proptest::collection::vec(any::<u32>(), 0..5),
        seq in any::<u32>(),
    ) {
        let done = DoneRequest { status, sockfd, remote_auth: remote_auth.clone() };
        let bytes = codec::encode_done(FAMILY, seq, &done);
        prop_assert_eq!(bytes.len(), 16 + 4 + 8 * (2 + remote_auth.len()));
        prop_assert_eq!(&bytes[24..28], &status.to_ne_bytes());
        prop_assert_eq!(&bytes[32..36], &sockfd.to_ne_bytes());
        let decoded = codec::decode_datagram(&bytes, FAMILY);
        prop_assert_eq!(decoded.len(), 1);
        prop_assert!(
            matches!(decoded[0], Ok(Received { seq: s, message: Message::Other { cmd: Some(3), .. } }) if s == seq),
            "{:?}", decoded[0]
        );
    }

    #[test]
    fn record_headers_never_panic_and_bound_the_length(header in any::<[u8; 5]>()) {
        if let Ok(len) = record::parse_header(&header) {
            prop_assert!(len <= record::MAX_RECORD_PAYLOAD);
            prop_assert!((20..=23).contains(&header[0]));
        }
    }
}
