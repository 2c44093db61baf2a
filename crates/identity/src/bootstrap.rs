//! First start: the `admin` user with a generated (or given) password, bound to platform-admin.

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ObjectMeta, PostParams};
use std::io::Write;
use std::path::Path;

use crate::kinds::{ANNOTATION_GLOBALROLE, ANNOTATION_UNINITIALIZED, User, UserSpec};

/// The first user's name.
pub const ADMIN: &str = "admin";
/// The file the generated password is written to, once, in the data dir.
pub const PASSWORD_FILE: &str = "initial-admin-password";

/// Why bootstrapping failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The password file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The given password does not meet the policy.
    #[error("the admin password in {path} is not acceptable: {source}")]
    Policy {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: crate::password::PolicyError,
    },
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] crate::password::Error),
    /// The cluster failed.
    #[error("cannot create the admin user: {0}")]
    Kube(#[from] kube::Error),
}

fn random_password() -> Result<String, Error> {
    // 20 characters from an alphabet without look-alikes: about 110 bits.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| crate::password::Error::Random)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// Creates user `admin` unless it exists: with the password from `password_file`
/// or a random one, annotated uninitialized and `iam.kubesphere.io/globalrole:
/// platform-admin`, plus GlobalRoleBinding `admin`. A generated password is
/// written once to `data_dir/initial-admin-password` (0600) and returned for
/// printing. Safe to run on several replicas at once: a create conflict means
/// another one did it, and returns None.
pub async fn ensure_admin(
    client: kube::Client,
    data_dir: &Path,
    password_file: Option<&Path>,
) -> Result<Option<String>, Error> {
    let users: Api<User> = Api::all(client.clone());
    if users.get_opt(ADMIN).await?.is_some() {
        ensure_binding(&client).await?;
        return Ok(None);
    }
    let (plain, generated) = match password_file {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Error::Io {
                path: p.display().to_string(),
                source,
            })?;
            let pw = text.trim_end_matches(['\n', '\r']).to_string();
            crate::password::check_policy(ADMIN, &pw).map_err(|source| Error::Policy {
                path: p.display().to_string(),
                source,
            })?;
            (pw, false)
        }
        None => (random_password()?, true),
    };
    let hashed = {
        let p = plain.clone();
        tokio::task::spawn_blocking(move || crate::password::hash(&p))
            .await
            .map_err(|_| crate::password::Error::Hash("hashing task failed".into()))??
    };
    let user = User {
        metadata: ObjectMeta {
            name: Some(ADMIN.into()),
            annotations: Some(
                [
                    (ANNOTATION_UNINITIALIZED.to_string(), "true".to_string()),
                    (
                        ANNOTATION_GLOBALROLE.to_string(),
                        "platform-admin".to_string(),
                    ),
                ]
                .into(),
            ),
            ..Default::default()
        },
        spec: UserSpec {
            email: "admin@kubesphere.io".into(),
            password: Some(hashed),
            ..Default::default()
        },
        status: None,
    };
    match users.create(&PostParams::default(), &user).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {
            ensure_binding(&client).await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    ensure_binding(&client).await?;
    if !generated {
        return Ok(None);
    }
    let path = data_dir.join(PASSWORD_FILE);
    write_once(&path, &plain).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Some(plain))
}

fn write_once(path: &Path, content: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

async fn ensure_binding(client: &kube::Client) -> Result<(), kube::Error> {
    let gvk = GroupVersionKind::gvk("iam.kubesphere.io", "v1beta1", "GlobalRoleBinding");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "globalrolebindings");
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let mut obj = DynamicObject::new(ADMIN, &ar);
    obj.metadata.labels =
        Some([("iam.kubesphere.io/user-ref".to_string(), ADMIN.to_string())].into());
    obj.data = serde_json::json!({
        "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-admin"},
        "subjects": [{"apiGroup": "iam.kubesphere.io", "kind": "User", "name": ADMIN}],
    });
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}
