// SPDX-License-Identifier: GPL-2.0

//! The netlink codec against byte layouts built here by hand, the way the kernel lays them
//! out (net/handshake/tlshd.c: tls_handshake_accept, netlink.c, genetlink's nlctrl).

use ktcp_tls_agent::codec::{
    self, AcceptReply, AuthMode, DoneRequest, FamilyInfo, Message, MsgType, Received, X509Keys,
};

const FAMILY: u16 = 0x1c;
const NLA_F_NESTED: u16 = 1 << 15;

fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = u16::try_from(4 + value.len()).expect("small attribute");
    let mut out = Vec::new();
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

fn nla_u32(kind: u16, value: u32) -> Vec<u8> {
    nla(kind, &value.to_ne_bytes())
}

fn nla_s32(kind: u16, value: i32) -> Vec<u8> {
    nla(kind, &value.to_ne_bytes())
}

fn nla_string(kind: u16, text: &str) -> Vec<u8> {
    let mut value = text.as_bytes().to_vec();
    value.push(0);
    nla(kind, &value)
}

fn nlmsg(msg_type: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(16 + payload.len()).expect("small message");
    let mut out = Vec::new();
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&msg_type.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0x4242u32.to_ne_bytes()); // the agent's port id
    out.extend_from_slice(payload);
    out
}

fn genl(msg_type: u16, cmd: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let mut payload = vec![cmd, version, 0, 0];
    payload.extend_from_slice(attrs);
    nlmsg(msg_type, 0, 7, &payload)
}

fn accept_reply(attrs: &[Vec<u8>]) -> Vec<u8> {
    genl(FAMILY, codec::CMD_ACCEPT, 1, &attrs.concat())
}

/// An `NLMSG_ERROR` answering a request with sequence `seq`.
fn nlmsg_error(seq: u32, errno: i32) -> Vec<u8> {
    let mut payload = (-errno).to_ne_bytes().to_vec();
    payload.extend_from_slice(&nlmsg(FAMILY, 1, seq, &[]));
    let mut msg = nlmsg(2, 0x100, seq, &payload); // NLM_F_CAPPED
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    msg
}

fn decode_one(bytes: &[u8]) -> Result<Received, codec::CodecError> {
    let mut all = codec::decode_datagram(bytes, FAMILY);
    assert_eq!(all.len(), 1, "one message");
    all.remove(0)
}

/// The x509 server-hello reply as tls_handshake_accept() builds it: sockfd, message-type,
/// peername, timeout, auth-mode, then a certificate nest.
fn server_hello_x509_attrs() -> Vec<Vec<u8>> {
    let cert = [
        nla_s32(codec::A_X509_CERT, 0x1234),
        nla_s32(codec::A_X509_PRIVKEY, 0x5678),
    ];
    vec![
        nla_s32(codec::A_ACCEPT_SOCKFD, 9),
        nla_u32(codec::A_ACCEPT_MESSAGE_TYPE, 2),
        nla_string(codec::A_ACCEPT_PEERNAME, "www.example.test"),
        nla_u32(codec::A_ACCEPT_TIMEOUT, 5000),
        nla_u32(codec::A_ACCEPT_AUTH_MODE, 3),
        nla(codec::A_ACCEPT_CERTIFICATE | NLA_F_NESTED, &cert.concat()),
    ]
}

#[test]
fn accept_reply_with_every_x509_attribute_decodes() {
    let got = decode_one(&accept_reply(&server_hello_x509_attrs())).expect("decodes");
    assert_eq!(got.seq, 7);
    assert_eq!(
        got.message,
        Message::Accept(Some(AcceptReply {
            sockfd: 9,
            message_type: MsgType::ServerHello,
            timeout_ms: Some(5000),
            auth_mode: AuthMode::X509,
            peer_identities: vec![],
            certificates: vec![X509Keys {
                cert: 0x1234,
                privkey: 0x5678
            }],
            peername: Some("www.example.test".into()),
        }))
    );
}

#[test]
fn psk_reply_carries_every_peer_identity() {
    let attrs = vec![
        nla_s32(codec::A_ACCEPT_SOCKFD, 3),
        nla_u32(codec::A_ACCEPT_MESSAGE_TYPE, 1),
        nla_u32(codec::A_ACCEPT_AUTH_MODE, 2),
        nla_u32(codec::A_ACCEPT_PEER_IDENTITY, 100),
        nla_u32(codec::A_ACCEPT_PEER_IDENTITY, 200),
    ];
    let Message::Accept(Some(reply)) = decode_one(&accept_reply(&attrs)).expect("ok").message
    else {
        panic!("not an accept reply");
    };
    assert_eq!(reply.message_type, MsgType::ClientHello);
    assert_eq!(reply.auth_mode, AuthMode::Psk);
    assert_eq!(reply.peer_identities, vec![100, 200]);
    assert_eq!(reply.timeout_ms, None);
    assert_eq!(reply.peername, None);
}

#[test]
fn zero_timeout_means_none_and_unknown_attributes_are_skipped() {
    let attrs = vec![
        nla_u32(99, 1),
        nla_s32(codec::A_ACCEPT_SOCKFD, 4),
        nla_u32(codec::A_ACCEPT_MESSAGE_TYPE, 2),
        nla_u32(codec::A_ACCEPT_TIMEOUT, 0),
        nla_u32(codec::A_ACCEPT_AUTH_MODE, 1),
    ];
    let Message::Accept(Some(reply)) = decode_one(&accept_reply(&attrs)).expect("ok").message
    else {
        panic!("not an accept reply");
    };
    assert_eq!((reply.sockfd, reply.timeout_ms), (4, None));
    assert_eq!(reply.auth_mode, AuthMode::Unauth);
}

#[test]
fn reply_without_sockfd_means_nothing_pending() {
    let attrs = vec![nla_u32(codec::A_ACCEPT_MESSAGE_TYPE, 2)];
    assert_eq!(
        decode_one(&accept_reply(&attrs)).expect("ok").message,
        Message::Accept(None)
    );
}

#[test]
fn eagain_error_decodes_with_its_sequence() {
    let got = decode_one(&nlmsg_error(31, libc::EAGAIN)).expect("decodes");
    assert_eq!(
        got,
        Received {
            seq: 31,
            message: Message::Error(libc::EAGAIN)
        }
    );
    let ack = decode_one(&nlmsg_error(32, 0)).expect("decodes");
    assert_eq!(ack.message, Message::Ack);
}

#[test]
fn ready_notification_carries_the_handler_class() {
    let msg = genl(
        FAMILY,
        codec::CMD_READY,
        1,
        &nla_u32(codec::A_ACCEPT_HANDLER_CLASS, 1),
    );
    assert_eq!(
        decode_one(&msg).expect("ok").message,
        Message::Ready {
            handler_class: Some(1)
        }
    );
    // The same bytes under another family id are not ours.
    let other = codec::decode_datagram(&msg, FAMILY + 1);
    assert!(matches!(
        other[0],
        Ok(Received {
            message: Message::Other { .. },
            ..
        })
    ));
}

/// Spoils one attribute of [`server_hello_x509_attrs`].
type Garble = fn(&mut Vec<Vec<u8>>);

#[test]
fn garbled_attributes_after_a_good_sockfd_keep_the_sockfd() {
    let cases: [(&str, Garble); 5] = [
        ("message-type of 3 bytes", |a| {
            a[1] = nla(codec::A_ACCEPT_MESSAGE_TYPE, &[2, 0, 0])
        }),
        ("no auth-mode", |a| {
            a.remove(4);
        }),
        ("peername without its NUL", |a| {
            a[2] = nla(codec::A_ACCEPT_PEERNAME, b"abcd")
        }),
        ("certificate without privkey", |a| {
            a[5] = nla(codec::A_ACCEPT_CERTIFICATE, &nla_s32(codec::A_X509_CERT, 1))
        }),
        ("nested attribute past its nest", |a| {
            a[5] = nla(codec::A_ACCEPT_CERTIFICATE, &[0x20, 0, 1, 0, 0, 0, 0, 0])
        }),
    ];
    for (what, garble) in cases {
        let mut attrs = server_hello_x509_attrs();
        garble(&mut attrs);
        let err = decode_one(&accept_reply(&attrs)).expect_err(what);
        assert_eq!(err.sockfd, Some(9), "{what}: {err}");
    }
}

#[test]
fn bad_sockfd_attributes_are_errors_without_a_sockfd() {
    for bad in [
        nla(codec::A_ACCEPT_SOCKFD, &[1, 0]),
        nla_s32(codec::A_ACCEPT_SOCKFD, -1),
    ] {
        let err = decode_one(&accept_reply(&[bad])).expect_err("refused");
        assert_eq!(err.sockfd, None, "{err}");
    }
    let twice = [
        nla_s32(codec::A_ACCEPT_SOCKFD, 5),
        nla_s32(codec::A_ACCEPT_SOCKFD, 6),
    ];
    assert!(decode_one(&accept_reply(&twice)).is_err());
}

#[test]
fn every_truncation_of_a_reply_is_an_error_not_a_panic() {
    let attrs = server_hello_x509_attrs();
    let whole = accept_reply(&attrs);
    let mut boundaries = vec![20]; // netlink + genl headers
    for attr in &attrs {
        boundaries.push(boundaries[boundaries.len() - 1] + attr.len());
    }
    let after_sockfd = boundaries[1];
    for len in 0..whole.len() {
        let mut cut = whole[..len].to_vec();
        // Keep the netlink length honest about the cut, so that the attribute parser (not
        // only the framing) meets the truncation.
        if len >= 4 {
            cut[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
        }
        let decoded = codec::decode_datagram(&cut, FAMILY);
        if len == 0 {
            assert!(decoded.is_empty());
            continue;
        }
        assert_eq!(decoded.len(), 1, "cut at {len}");
        if len == 20 {
            assert_eq!(
                decoded[0].as_ref().map(|r| &r.message),
                Ok(&Message::Accept(None))
            );
        } else if !boundaries.contains(&len) {
            let err = decoded[0]
                .as_ref()
                .expect_err("a cut inside an attribute is refused");
            let expected_fd = (len > after_sockfd).then_some(9);
            assert_eq!(err.sockfd, expected_fd, "cut at {len}: {err}");
        }
    }
}

#[test]
fn a_datagram_with_two_messages_yields_both() {
    let mut datagram = accept_reply(&server_hello_x509_attrs());
    datagram.extend_from_slice(&nlmsg_error(8, libc::EAGAIN));
    let all = codec::decode_datagram(&datagram, FAMILY);
    assert_eq!(all.len(), 2);
    assert!(matches!(
        all[0],
        Ok(Received {
            message: Message::Accept(Some(_)),
            ..
        })
    ));
    assert!(
        matches!(all[1], Ok(Received { seq: 8, message: Message::Error(e) }) if e == libc::EAGAIN)
    );
}

#[test]
fn newfamily_reply_yields_id_and_groups() {
    let group = |index: u16, id: u32, name: &str| {
        nla(index, &[nla_u32(2, id), nla_string(1, name)].concat())
    };
    let groups = [group(1, 11, "none"), group(2, 12, "tlshd")].concat();
    let attrs = [
        nla_string(2, "handshake"),
        nla(1, &FAMILY.to_ne_bytes()),
        nla_u32(3, 1),
        nla_u32(4, 0),
        nla_u32(5, 3),
        nla(
            6 | NLA_F_NESTED,
            &nla(1, &[nla_u32(1, 2), nla_u32(2, 0xa)].concat()),
        ),
        nla(7 | NLA_F_NESTED, &groups),
    ]
    .concat();
    let msg = genl(0x10, 1, 2, &attrs);
    let Message::Family(info) = decode_one(&msg).expect("decodes").message else {
        panic!("not a family");
    };
    assert_eq!(
        info,
        FamilyInfo {
            name: "handshake".into(),
            id: FAMILY,
            groups: vec![("none".into(), 11), ("tlshd".into(), 12)],
        }
    );
    assert_eq!(info.group("tlshd"), Some(12));
    assert_eq!(info.group("nope"), None);
}

#[test]
fn done_request_bytes_are_exact() {
    let done = DoneRequest {
        status: libc::EACCES as u32,
        sockfd: 9,
        remote_auth: vec![0x77, 0x88],
    };
    let bytes = codec::encode_done(FAMILY, 5, &done);
    let mut expected = Vec::new();
    expected.extend_from_slice(&52u32.to_ne_bytes()); // 16 + 4 + 4 * 8
    expected.extend_from_slice(&FAMILY.to_ne_bytes());
    expected.extend_from_slice(&5u16.to_ne_bytes()); // NLM_F_REQUEST | NLM_F_ACK
    expected.extend_from_slice(&5u32.to_ne_bytes()); // seq
    expected.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel fills it in
    expected.extend_from_slice(&[codec::CMD_DONE, 1, 0, 0]);
    expected.extend_from_slice(&nla_u32(1, 13)); // status = EACCES
    expected.extend_from_slice(&nla_s32(2, 9)); // sockfd
    expected.extend_from_slice(&nla_u32(3, 0x77)); // remote-auth
    expected.extend_from_slice(&nla_u32(3, 0x88));
    assert_eq!(bytes, expected);
}

#[test]
fn done_status_is_clamped_to_max_errno() {
    let done = DoneRequest {
        status: 70_000,
        sockfd: 1,
        remote_auth: vec![],
    };
    let bytes = codec::encode_done(FAMILY, 1, &done);
    assert_eq!(&bytes[20..28], nla_u32(1, 4095).as_slice());
}

#[test]
fn accept_request_bytes_are_exact() {
    let bytes = codec::encode_accept(FAMILY, 3);
    let mut expected = Vec::new();
    expected.extend_from_slice(&28u32.to_ne_bytes());
    expected.extend_from_slice(&FAMILY.to_ne_bytes());
    expected.extend_from_slice(&1u16.to_ne_bytes()); // NLM_F_REQUEST
    expected.extend_from_slice(&3u32.to_ne_bytes());
    expected.extend_from_slice(&0u32.to_ne_bytes());
    expected.extend_from_slice(&[codec::CMD_ACCEPT, 1, 0, 0]);
    expected.extend_from_slice(&nla_u32(2, 1)); // handler-class = tlshd
    assert_eq!(bytes, expected);
}

#[test]
fn getfamily_request_bytes_are_exact() {
    let bytes = codec::encode_get_family(1, "handshake");
    let mut expected = Vec::new();
    expected.extend_from_slice(&36u32.to_ne_bytes());
    expected.extend_from_slice(&0x10u16.to_ne_bytes()); // GENL_ID_CTRL
    expected.extend_from_slice(&5u16.to_ne_bytes());
    expected.extend_from_slice(&1u32.to_ne_bytes());
    expected.extend_from_slice(&0u32.to_ne_bytes());
    expected.extend_from_slice(&[3, 2, 0, 0]); // CTRL_CMD_GETFAMILY, version 2
    expected.extend_from_slice(&nla_string(2, "handshake"));
    assert_eq!(bytes, expected);
}
