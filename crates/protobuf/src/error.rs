//! The error type of protobuf decoding.

/// Why a protobuf body could not be turned into JSON.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with Kubernetes' 4-byte magic `k8s\0`.
    #[error("protobuf body does not start with the magic prefix k8s\\0")]
    BadMagic,
    /// A length or value runs past the end of its enclosing bytes.
    #[error("protobuf body is truncated while reading {0}")]
    Truncated(&'static str),
    /// A varint is longer than 10 bytes.
    #[error("protobuf varint is longer than 10 bytes")]
    VarintOverflow,
    /// The wire type is not one Kubernetes uses (groups, or 6 and 7).
    #[error("unsupported protobuf wire type {wire} for field {tag}")]
    UnsupportedWireType {
        /// The field number.
        tag: u64,
        /// The wire type found.
        wire: u8,
    },
    /// A known field arrived with a wire type that does not match its declared type.
    #[error("field {tag} ({field}) of {message} has wire type {found}, expected {expected}")]
    WrongWireType {
        /// The message being decoded.
        message: String,
        /// The field number.
        tag: u32,
        /// The field's JSON name.
        field: String,
        /// The wire type the declared type needs.
        expected: u8,
        /// The wire type found.
        found: u8,
    },
    /// The envelope names an apiVersion/kind the table does not hold.
    #[error(
        "unknown kind `{kind}` in `{api_version}`: not a built-in type this server decodes from protobuf"
    )]
    UnknownKind {
        /// The kind from the envelope.
        kind: String,
        /// The apiVersion from the envelope.
        api_version: String,
    },
    /// A field refers to a message the table does not hold.
    #[error("message type {0} is not in the protobuf table")]
    UnknownMessage(String),
    /// The envelope announces a content encoding (such as gzip) which is not supported.
    #[error("unsupported protobuf content encoding `{0}`")]
    UnsupportedEncoding(String),
    /// A string field holds bytes that are not UTF-8.
    #[error("field {field} of {message} is not valid UTF-8")]
    InvalidUtf8 {
        /// The message being decoded.
        message: String,
        /// The field's JSON name.
        field: String,
    },
    /// A raw JSON payload (RawExtension, FieldsV1, JSON) does not parse.
    #[error("embedded JSON in {message} does not parse: {source}")]
    EmbeddedJson {
        /// The message holding the raw bytes.
        message: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A time is outside the years 0..=9999 that Go's JSON encoding accepts.
    #[error("time {seconds}s {nanos}ns is outside the years 0 to 9999")]
    TimeOutOfRange {
        /// Seconds since the Unix epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanos: i64,
    },
    /// A double is NaN or infinite, which JSON cannot hold.
    #[error("field {field} of {message} is not a finite number")]
    NonFiniteNumber {
        /// The message being decoded.
        message: String,
        /// The field's JSON name.
        field: String,
    },
    /// Messages nest deeper than any Kubernetes object does.
    #[error("protobuf messages nest deeper than {0} levels")]
    TooDeep(usize),
    /// The embedded message table is malformed (a build defect, not a client error).
    #[error("protobuf message table line {line} is malformed: {reason}")]
    Table {
        /// The 1-based line number in messages.txt.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Result of protobuf decoding.
pub type Result<T, E = ProtobufError> = std::result::Result<T, E>;
