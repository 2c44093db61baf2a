//! The error every patch engine returns; each variant maps to one Kubernetes status.

/// Why a patch could not be applied; [`PatchError::http_status`] gives the status code
/// kube-apiserver uses for it.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch body is not valid JSON or not the shape its patch type requires.
    #[error("invalid patch document: {0}")]
    InvalidDocument(String),
    /// A JSON patch with more operations than kube-apiserver accepts (10,000).
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations {
        /// The limit.
        max: usize,
        /// The number of operations in the patch.
        got: usize,
    },
    /// A JSON patch `test` operation did not match.
    #[error(
        "the server rejected our request due to an error in our request: testing value {path} failed"
    )]
    TestFailed {
        /// The JSON pointer the failed test named.
        path: String,
    },
    /// A JSON patch operation could not be applied (missing path, bad index, move into itself).
    #[error("the server rejected our request due to an error in our request: {0}")]
    JsonPatchFailed(String),
    /// Strategic merge patch is not defined for this type (custom resources, unknown kinds).
    #[error("strategic merge patch format is not supported for {0}")]
    UnsupportedType(String),
    /// The object or the patch is not a JSON object where one is required.
    #[error("{0}")]
    NotAnObject(&'static str),
    /// A `$patch` directive with a value other than replace, delete (or merge in lists).
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType {
        /// The directive value found.
        directive: String,
        /// The map that carried it.
        map: String,
    },
    /// `$patch: merge` on a list element, which Kubernetes does not implement.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// A list element lacks the merge key its field declares.
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey {
        /// The element without the key.
        map: String,
        /// The declared merge key.
        key: String,
    },
    /// A list of objects under `patchStrategy: merge` without a merge key.
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKeyDeclared(String),
    /// A `$deleteFromPrimitiveList/<field>` key is malformed.
    #[error("invalid patch format of primitive list")]
    BadPrimitiveList,
    /// A `$retainKeys` directive is not a list, or the patch sets a key it does not retain.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeys,
    /// A `$setElementOrder/<field>` directive is malformed.
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrder,
    /// The patch list is not in the order its `$setElementOrder` list gives.
    #[error("the order in patch list {patch} doesn't match $setElementOrder list {order}")]
    SetElementOrderMismatch {
        /// The patch list.
        patch: String,
        /// The `$setElementOrder` list.
        order: String,
    },
    /// A merged list holds lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A merged list mixes element types.
    #[error("list element types are not identical: {0}")]
    MixedListTypes(String),
    /// A value has the wrong JSON type for the operation.
    #[error("expected a {expected}, but received a {actual}")]
    TypeMismatch {
        /// The JSON type required.
        expected: &'static str,
        /// The JSON type found.
        actual: &'static str,
    },
    /// A field declares a patch strategy combination Kubernetes does not define.
    #[error("unexpected patch strategy: {0}")]
    BadStrategy(String),
}

impl PatchError {
    /// The HTTP status kube-apiserver answers with for this error (`applyJSPatch` and
    /// `interpretStrategicMergePatchError`): malformed documents and directives are 400, too many
    /// JSON patch operations 413, strategic merge patch on a type without patch metadata 415, a
    /// JSON patch that does not apply or a list of lists 422, and anything the Go implementation
    /// returns unwrapped becomes a 500 internal error.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::InvalidDocument(_)
            | PatchError::NotAnObject(_)
            | PatchError::BadPrimitiveList
            | PatchError::BadRetainKeys
            | PatchError::BadSetElementOrder => 400,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::UnsupportedType(_) => 415,
            PatchError::TestFailed { .. }
            | PatchError::JsonPatchFailed(_)
            | PatchError::ListOfLists => 422,
            PatchError::BadPatchType { .. }
            | PatchError::MergeDirectiveInList
            | PatchError::NoMergeKey { .. }
            | PatchError::NoMergeKeyDeclared(_)
            | PatchError::SetElementOrderMismatch { .. }
            | PatchError::MixedListTypes(_)
            | PatchError::TypeMismatch { .. }
            | PatchError::BadStrategy(_) => 500,
        }
    }
}
