// SPDX-License-Identifier: GPL-2.0

//! The bytes of the `handshake` generic-netlink family (Linux 6.12,
//! `Documentation/netlink/specs/handshake.yaml`): pure functions from messages to bytes and
//! back, no socket. The agent sends `nlctrl` GETFAMILY, ACCEPT and DONE requests and reads
//! the kernel's answers to them plus the READY notifications of the `tlshd` group.
//!
//! Decoding never panics: every length comes from `netlink-packet-core`'s checked buffers,
//! and every value is read with `get`/`try_into`.

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, Nla,
    NlaBuffer, NlasIterator, Parseable, ParseableParametrized, NLMSG_ALIGNTO, NLM_F_ACK,
    NLM_F_REQUEST,
};
use netlink_packet_generic::constants::{
    CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS, CTRL_ATTR_MCAST_GRP_ID,
    CTRL_ATTR_MCAST_GRP_NAME, GENL_ID_CTRL,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use std::fmt;

/// `HANDSHAKE_FAMILY_NAME`.
pub const FAMILY_NAME: &str = "handshake";
/// `HANDSHAKE_FAMILY_VERSION`.
pub const FAMILY_VERSION: u8 = 1;
/// `HANDSHAKE_MCGRP_TLSHD`: the group READY notifications for TLS handshakes go to.
pub const GROUP_TLSHD: &str = "tlshd";

/// `HANDSHAKE_CMD_*`.
pub const CMD_READY: u8 = 1;
pub const CMD_ACCEPT: u8 = 2;
pub const CMD_DONE: u8 = 3;

/// `HANDSHAKE_HANDLER_CLASS_TLSHD`.
pub const HANDLER_CLASS_TLSHD: u32 = 1;

/// `HANDSHAKE_A_ACCEPT_*`.
pub const A_ACCEPT_SOCKFD: u16 = 1;
pub const A_ACCEPT_HANDLER_CLASS: u16 = 2;
pub const A_ACCEPT_MESSAGE_TYPE: u16 = 3;
pub const A_ACCEPT_TIMEOUT: u16 = 4;
pub const A_ACCEPT_AUTH_MODE: u16 = 5;
pub const A_ACCEPT_PEER_IDENTITY: u16 = 6;
pub const A_ACCEPT_CERTIFICATE: u16 = 7;
pub const A_ACCEPT_PEERNAME: u16 = 8;

/// `HANDSHAKE_A_X509_*` (inside a certificate nest).
pub const A_X509_CERT: u16 = 1;
pub const A_X509_PRIVKEY: u16 = 2;

/// `HANDSHAKE_A_DONE_*`.
pub const A_DONE_STATUS: u16 = 1;
pub const A_DONE_SOCKFD: u16 = 2;
pub const A_DONE_REMOTE_AUTH: u16 = 3;

/// The kernel refuses a DONE status above `MAX_ERRNO`.
pub const MAX_ERRNO: u32 = 4095;

/// `HANDSHAKE_MSG_TYPE_*`: which side of the handshake the kernel wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgType {
    ClientHello,
    ServerHello,
    /// `UNSPEC` or a value this agent does not know.
    Other(u32),
}

impl From<u32> for MsgType {
    fn from(value: u32) -> Self {
        match value {
            1 => MsgType::ClientHello,
            2 => MsgType::ServerHello,
            other => MsgType::Other(other),
        }
    }
}

/// `HANDSHAKE_AUTH_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    Unauth,
    Psk,
    X509,
    /// `UNSPEC` or a value this agent does not know.
    Other(u32),
}

impl From<u32> for AuthMode {
    fn from(value: u32) -> Self {
        match value {
            1 => AuthMode::Unauth,
            2 => AuthMode::Psk,
            3 => AuthMode::X509,
            other => AuthMode::Other(other),
        }
    }
}

/// One `certificate` nest: key serials of an x.509 certificate and its private key in the
/// kernel's keyrings (the agent uses its own configured pair and only logs these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X509Keys {
    pub cert: i32,
    pub privkey: i32,
}

/// The kernel's answer to an ACCEPT that handed over a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptReply {
    /// The socket, a new descriptor in this process's table, owned by the agent from now on.
    pub sockfd: i32,
    pub message_type: MsgType,
    /// Milliseconds the consumer allows; `None` when the kernel sent none (or 0).
    pub timeout_ms: Option<u32>,
    pub auth_mode: AuthMode,
    pub peer_identities: Vec<u32>,
    pub certificates: Vec<X509Keys>,
    pub peername: Option<String>,
}

/// What the agent reports in DONE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoneRequest {
    /// 0 for success, else a positive errno (at most [`MAX_ERRNO`]).
    pub status: u32,
    pub sockfd: i32,
    /// Key serials of the authenticated remote identities (none for an unauthenticated peer).
    pub remote_auth: Vec<u32>,
}

/// A malformed message. When the message was an ACCEPT reply whose socket attribute could
/// still be read, `sockfd` carries it: the kernel did install that descriptor, so the agent
/// must still answer DONE for it and close it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    pub reason: String,
    pub sockfd: Option<i32>,
}

impl CodecError {
    fn new(reason: impl Into<String>) -> Self {
        CodecError {
            reason: reason.into(),
            sockfd: None,
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)?;
        if let Some(fd) = self.sockfd {
            write!(f, " (sockfd {fd})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CodecError {}

impl From<DecodeError> for CodecError {
    fn from(err: DecodeError) -> Self {
        CodecError::new(err.to_string())
    }
}

/// An attribute as it is on the wire: its type (flags masked off) and its value bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAttr {
    pub kind: u16,
    pub value: Vec<u8>,
}

impl RawAttr {
    pub fn u32(kind: u16, value: u32) -> Self {
        RawAttr {
            kind,
            value: value.to_ne_bytes().to_vec(),
        }
    }

    pub fn s32(kind: u16, value: i32) -> Self {
        RawAttr {
            kind,
            value: value.to_ne_bytes().to_vec(),
        }
    }
}

impl Nla for RawAttr {
    fn value_len(&self) -> usize {
        self.value.len()
    }

    fn kind(&self) -> u16 {
        self.kind
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.value);
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for RawAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        Ok(RawAttr {
            kind: buf.kind(),
            value: buf.value().to_vec(),
        })
    }
}

/// A generic-netlink message of any family, its attributes undecoded: the `handshake`
/// family's id is only known at run time, and `nlctrl` replies are read the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenlAttrs {
    pub cmd: u8,
    /// The attributes, up to the first one that is badly framed.
    pub attrs: Vec<RawAttr>,
    /// Why the attributes stop early, if they do (decoding keeps what came before, so an
    /// ACCEPT reply's socket is not lost to a broken attribute after it).
    pub framing_error: Option<String>,
}

impl GenlFamily for GenlAttrs {
    fn family_name() -> &'static str {
        FAMILY_NAME
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        FAMILY_VERSION
    }
}

impl Emitable for GenlAttrs {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for GenlAttrs {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut attrs = Vec::new();
        let mut framing_error = None;
        for nla in NlasIterator::new(buf) {
            match nla.and_then(|nla| RawAttr::parse(&nla)) {
                Ok(attr) => attrs.push(attr),
                Err(err) => {
                    framing_error = Some(err.to_string());
                    break;
                }
            }
        }
        Ok(GenlAttrs {
            cmd: header.cmd,
            attrs,
            framing_error,
        })
    }
}

fn parse_attrs(buf: &[u8]) -> Result<Vec<RawAttr>, DecodeError> {
    NlasIterator::new(buf)
        .map(|nla| nla.and_then(|nla| RawAttr::parse(&nla)))
        .collect()
}

/// One decoded netlink message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// `NLMSG_ERROR` with code 0.
    Ack,
    /// `NLMSG_ERROR` with a failure: the positive errno.
    Error(i32),
    /// `nlctrl` NEWFAMILY, the answer to GETFAMILY.
    Family(FamilyInfo),
    /// HANDSHAKE_CMD_READY, with its handler class (`None` if the kernel sent none).
    Ready { handler_class: Option<u32> },
    /// The answer to ACCEPT: `None` when it carried no socket (nothing was pending).
    Accept(Option<AcceptReply>),
    /// Anything else (NOOP, DONE, other commands): nothing the agent acts on.
    Other { message_type: u16, cmd: Option<u8> },
}

/// A decoded message and the header fields needed to match it to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub seq: u32,
    pub message: Message,
}

/// A generic-netlink family as `nlctrl` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyInfo {
    pub name: String,
    pub id: u16,
    /// Multicast groups: (name, id).
    pub groups: Vec<(String, u32)>,
}

impl FamilyInfo {
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }
}

fn to_bytes<I>(mut message: NetlinkMessage<I>) -> Vec<u8>
where
    I: netlink_packet_core::NetlinkSerializable,
{
    message.finalize();
    let mut buf = vec![0u8; message.buffer_len()];
    message.serialize(&mut buf);
    buf
}

fn request_header(seq: u32, flags: u16) -> NetlinkHeader {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    header
}

/// `nlctrl` CTRL_CMD_GETFAMILY for `name`.
pub fn encode_get_family(seq: u32, name: &str) -> Vec<u8> {
    let genl = GenlMessage::from_payload(GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(name.to_owned())],
    });
    to_bytes(NetlinkMessage::new(
        request_header(seq, NLM_F_REQUEST | NLM_F_ACK),
        NetlinkPayload::InnerMessage(genl),
    ))
}

fn encode_handshake(family_id: u16, seq: u32, flags: u16, payload: GenlAttrs) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(payload);
    genl.set_resolved_family_id(family_id);
    to_bytes(NetlinkMessage::new(
        request_header(seq, flags),
        NetlinkPayload::InnerMessage(genl),
    ))
}

/// HANDSHAKE_CMD_ACCEPT for the `tlshd` handler class. No ACK flag: the kernel answers with
/// the reply, or with an `NLMSG_ERROR` (EAGAIN when nothing is pending).
pub fn encode_accept(family_id: u16, seq: u32) -> Vec<u8> {
    encode_handshake(
        family_id,
        seq,
        NLM_F_REQUEST,
        GenlAttrs {
            cmd: CMD_ACCEPT,
            attrs: vec![RawAttr::u32(A_ACCEPT_HANDLER_CLASS, HANDLER_CLASS_TLSHD)],
            framing_error: None,
        },
    )
}

/// HANDSHAKE_CMD_DONE, acknowledged (so a refused DONE is seen and logged).
pub fn encode_done(family_id: u16, seq: u32, done: &DoneRequest) -> Vec<u8> {
    let mut attrs = vec![
        RawAttr::u32(A_DONE_STATUS, done.status.min(MAX_ERRNO)),
        RawAttr::s32(A_DONE_SOCKFD, done.sockfd),
    ];
    attrs.extend(
        done.remote_auth
            .iter()
            .map(|&serial| RawAttr::u32(A_DONE_REMOTE_AUTH, serial)),
    );
    encode_handshake(
        family_id,
        seq,
        NLM_F_REQUEST | NLM_F_ACK,
        GenlAttrs {
            cmd: CMD_DONE,
            attrs,
            framing_error: None,
        },
    )
}

/// Splits one datagram into its netlink messages and decodes each. `family_id` is the
/// `handshake` family's resolved id (0 before it is known). A message that cannot be
/// framed ends the datagram (what follows it cannot be found).
pub fn decode_datagram(datagram: &[u8], family_id: u16) -> Vec<Result<Received, CodecError>> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let length = match NetlinkBuffer::new_checked(rest) {
            Ok(buf) => buf.length() as usize,
            Err(err) => {
                out.push(Err(CodecError::from(err)));
                break;
            }
        };
        let Some(message) = rest.get(..length) else {
            out.push(Err(CodecError::new("netlink message longer than datagram")));
            break;
        };
        out.push(decode_message(message, family_id));
        let aligned = length.saturating_add(usize::from(NLMSG_ALIGNTO) - 1)
            & !(usize::from(NLMSG_ALIGNTO) - 1);
        rest = rest.get(aligned..).unwrap_or(&[]);
    }
    out
}

/// Decodes one netlink message (exactly its bytes).
pub fn decode_message(message: &[u8], family_id: u16) -> Result<Received, CodecError> {
    let parsed = NetlinkMessage::<GenlMessage<GenlAttrs>>::deserialize(message)?;
    let seq = parsed.header.sequence_number;
    let message_type = parsed.header.message_type;
    let message = match parsed.payload {
        NetlinkPayload::Error(err) => match err.code {
            None => Message::Ack,
            Some(code) => Message::Error(code.get().saturating_neg()),
        },
        NetlinkPayload::InnerMessage(genl) => {
            let (header, payload) = genl.into_parts();
            if message_type == GENL_ID_CTRL {
                framed(&payload)?;
                Message::Family(decode_family(&payload.attrs)?)
            } else if family_id != 0 && message_type == family_id {
                decode_handshake(message_type, header.cmd, &payload)?
            } else {
                Message::Other {
                    message_type,
                    cmd: Some(header.cmd),
                }
            }
        }
        _ => Message::Other {
            message_type,
            cmd: None,
        },
    };
    Ok(Received { seq, message })
}

/// Fails if the attributes stopped early.
fn framed(payload: &GenlAttrs) -> Result<(), CodecError> {
    match &payload.framing_error {
        None => Ok(()),
        Some(why) => Err(CodecError::new(format!("bad attribute: {why}"))),
    }
}

fn decode_handshake(
    message_type: u16,
    cmd: u8,
    payload: &GenlAttrs,
) -> Result<Message, CodecError> {
    let attrs = payload.attrs.as_slice();
    match cmd {
        CMD_READY => {
            framed(payload)?;
            Ok(Message::Ready {
                handler_class: single(attrs, A_ACCEPT_HANDLER_CLASS, read_u32)?,
            })
        }
        CMD_ACCEPT => {
            let reply = decode_accept(attrs)?;
            if let Err(err) = framed(payload) {
                return Err(CodecError {
                    reason: err.reason,
                    sockfd: reply.map(|r| r.sockfd),
                });
            }
            Ok(Message::Accept(reply))
        }
        other => Ok(Message::Other {
            message_type,
            cmd: Some(other),
        }),
    }
}

/// Decodes the attributes of an ACCEPT reply. `Ok(None)`: no socket attribute, nothing was
/// handed over. Unknown attribute types are skipped (a newer kernel may add some).
pub fn decode_accept(attrs: &[RawAttr]) -> Result<Option<AcceptReply>, CodecError> {
    let sockfd = match single(attrs, A_ACCEPT_SOCKFD, read_i32)? {
        None => return Ok(None),
        Some(fd) if fd < 0 => return Err(CodecError::new(format!("negative sockfd {fd}"))),
        Some(fd) => fd,
    };
    decode_accept_rest(sockfd, attrs)
        .map(Some)
        .map_err(|err| CodecError {
            reason: err.reason,
            sockfd: Some(sockfd),
        })
}

fn decode_accept_rest(sockfd: i32, attrs: &[RawAttr]) -> Result<AcceptReply, CodecError> {
    let message_type = single(attrs, A_ACCEPT_MESSAGE_TYPE, read_u32)?
        .ok_or_else(|| CodecError::new("ACCEPT reply without message-type"))?;
    let auth_mode = single(attrs, A_ACCEPT_AUTH_MODE, read_u32)?
        .ok_or_else(|| CodecError::new("ACCEPT reply without auth-mode"))?;
    let timeout_ms = single(attrs, A_ACCEPT_TIMEOUT, read_u32)?.filter(|&ms| ms != 0);
    let peername = single(attrs, A_ACCEPT_PEERNAME, read_string)?;
    let peer_identities = all(attrs, A_ACCEPT_PEER_IDENTITY, read_u32)?;
    let certificates = all(attrs, A_ACCEPT_CERTIFICATE, read_x509)?;
    Ok(AcceptReply {
        sockfd,
        message_type: MsgType::from(message_type),
        timeout_ms,
        auth_mode: AuthMode::from(auth_mode),
        peer_identities,
        certificates,
        peername,
    })
}

fn decode_family(attrs: &[RawAttr]) -> Result<FamilyInfo, CodecError> {
    let name = single(attrs, CTRL_ATTR_FAMILY_NAME, read_string)?
        .ok_or_else(|| CodecError::new("NEWFAMILY without a family name"))?;
    let id = single(attrs, CTRL_ATTR_FAMILY_ID, read_u16)?
        .ok_or_else(|| CodecError::new("NEWFAMILY without a family id"))?;
    let mut groups = Vec::new();
    for nest in attrs.iter().filter(|a| a.kind == CTRL_ATTR_MCAST_GROUPS) {
        for group in parse_attrs(&nest.value)? {
            let inner = parse_attrs(&group.value)?;
            let group_name = single(&inner, CTRL_ATTR_MCAST_GRP_NAME, read_string)?;
            let group_id = single(&inner, CTRL_ATTR_MCAST_GRP_ID, read_u32)?;
            if let (Some(n), Some(i)) = (group_name, group_id) {
                groups.push((n, i));
            }
        }
    }
    Ok(FamilyInfo { name, id, groups })
}

/// The value of the one attribute of type `kind`; a second one is an error.
fn single<T>(
    attrs: &[RawAttr],
    kind: u16,
    read: fn(&[u8]) -> Result<T, String>,
) -> Result<Option<T>, CodecError> {
    let mut found = attrs.iter().filter(|a| a.kind == kind);
    let Some(first) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(CodecError::new(format!("attribute {kind} repeated")));
    }
    read(&first.value)
        .map(Some)
        .map_err(|why| CodecError::new(format!("attribute {kind}: {why}")))
}

/// The values of every attribute of type `kind` (a multi-attr).
fn all<T>(
    attrs: &[RawAttr],
    kind: u16,
    read: fn(&[u8]) -> Result<T, String>,
) -> Result<Vec<T>, CodecError> {
    attrs
        .iter()
        .filter(|a| a.kind == kind)
        .map(|a| read(&a.value).map_err(|why| CodecError::new(format!("attribute {kind}: {why}"))))
        .collect()
}

fn fixed<const N: usize>(value: &[u8]) -> Result<[u8; N], String> {
    value
        .try_into()
        .map_err(|_| format!("{} bytes where {N} were expected", value.len()))
}

fn read_u16(value: &[u8]) -> Result<u16, String> {
    fixed(value).map(u16::from_ne_bytes)
}

fn read_u32(value: &[u8]) -> Result<u32, String> {
    fixed(value).map(u32::from_ne_bytes)
}

fn read_i32(value: &[u8]) -> Result<i32, String> {
    fixed(value).map(i32::from_ne_bytes)
}

/// A NUL-terminated string (`nla_put_string`); the NUL is required, nothing may follow it.
fn read_string(value: &[u8]) -> Result<String, String> {
    let Some((&0, text)) = value.split_last() else {
        return Err("string without its NUL terminator".into());
    };
    if text.contains(&0) {
        return Err("string with an embedded NUL".into());
    }
    String::from_utf8(text.to_vec()).map_err(|_| "string is not UTF-8".into())
}

fn read_x509(value: &[u8]) -> Result<X509Keys, String> {
    let inner = parse_attrs(value).map_err(|err| err.to_string())?;
    let cert = single(&inner, A_X509_CERT, read_i32).map_err(|e| e.reason)?;
    let privkey = single(&inner, A_X509_PRIVKEY, read_i32).map_err(|e| e.reason)?;
    match (cert, privkey) {
        (Some(cert), Some(privkey)) => Ok(X509Keys { cert, privkey }),
        _ => Err("certificate nest without cert and privkey".into()),
    }
}
