//! Where a dataset is, as `--data` (or `RUNLENS_DATA`) gives it: a local path, a
//! `file:///` URL, or an object-store URL (`s3://bucket/prefix`, `gs://…`, `az://…`).
//!
//! Endpoint, region and credentials of an object store come from the standard environment
//! variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`, read by the `object_store` crate) and, for S3,
//! the AWS shared config and credentials files of `AWS_PROFILE` (or `default`) when the
//! environment does not set them. None of them is ever part of the location's text: a URL
//! carrying a user name or password is refused.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::Dataset;
use super::object::ObjectStorage;
use super::store::LocalStore;
use crate::error::Result;

/// The object stores runlens writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Amazon S3 and S3-compatible servers (`s3://`, `s3a://`).
    S3,
    /// Google Cloud Storage (`gs://`, `gcs://`).
    Gcs,
    /// Azure Blob Storage (`az://`, `azure://`, `abfs://`, `abfss://`).
    Azure,
}

/// A dataset location.
#[derive(Clone, PartialEq, Eq)]
pub enum DataLocation {
    /// A local directory.
    Local(PathBuf),
    /// An object-store URL: `<scheme>://<bucket>/<prefix>`.
    Object {
        /// Which store.
        cloud: Cloud,
        /// The URL as given, without a trailing `/`.
        url: String,
    },
}

impl fmt::Debug for DataLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DataLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataLocation::Local(path) => write!(f, "{}", path.display()),
            DataLocation::Object { url, .. } => f.write_str(url),
        }
    }
}

impl DataLocation {
    /// Parses `--data`: a path, `file:///abs/path`, or `s3://`, `gs://`, `az://` (and their
    /// aliases) with a bucket. Any other scheme is refused rather than taken as a folder
    /// named after it.
    pub fn parse(value: &str) -> std::result::Result<DataLocation, String> {
        if let Some(path) = value.strip_prefix("file://") {
            return match path.starts_with('/') {
                true => Ok(DataLocation::Local(PathBuf::from(path))),
                false => Err(format!(
                    "{value}: a file:// URL takes an absolute path (file:///data/runlens)"
                )),
            };
        }
        let Some((scheme, rest)) = value.split_once("://") else {
            return Ok(DataLocation::Local(PathBuf::from(value)));
        };
        let is_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !is_scheme {
            return Ok(DataLocation::Local(PathBuf::from(value)));
        }
        let cloud = match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" => Cloud::S3,
            "gs" | "gcs" => Cloud::Gcs,
            "az" | "azure" | "abfs" | "abfss" => Cloud::Azure,
            _ => {
                return Err(format!(
                    "{scheme}:// is not a dataset location runlens knows; give a path, \
                     file:///path, s3://bucket/prefix, gs://bucket/prefix or az://container/prefix"
                ));
            }
        };
        let bucket = rest.split('/').next().unwrap_or_default();
        if bucket.contains('@') {
            return Err(format!(
                "{scheme}://…: credentials do not belong in the URL; set them in the environment \
                 (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*)"
            ));
        }
        if bucket.is_empty() {
            return Err(format!(
                "{value}: no bucket; write {scheme}://bucket/prefix"
            ));
        }
        if rest.contains('?') || rest.contains('#') {
            return Err(format!(
                "{scheme}://{bucket}/…: query strings are not part of a dataset location"
            ));
        }
        Ok(DataLocation::Object {
            cloud,
            url: value.trim_end_matches('/').to_string(),
        })
    }

    /// The dataset at this location. For an object store this only configures the client:
    /// the first read or write reaches the store (and fails there if it cannot).
    pub fn open(&self) -> Result<Dataset> {
        match self {
            DataLocation::Local(path) => {
                Ok(Dataset::with_store(Arc::new(LocalStore::new(path.clone()))))
            }
            DataLocation::Object { cloud, url } => Ok(Dataset::with_store(Arc::new(
                ObjectStorage::connect(*cloud, url)?,
            ))),
        }
    }

    /// The local directory, if the location is one.
    pub fn local_path(&self) -> Option<&std::path::Path> {
        match self {
            DataLocation::Local(path) => Some(path),
            DataLocation::Object { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_file_urls_and_object_urls_are_told_apart() {
        assert_eq!(
            DataLocation::parse("runlens-data"),
            Ok(DataLocation::Local("runlens-data".into()))
        );
        assert_eq!(
            DataLocation::parse("file:///srv/ds"),
            Ok(DataLocation::Local("/srv/ds".into()))
        );
        assert!(DataLocation::parse("file://relative").is_err());
        assert_eq!(
            DataLocation::parse("s3://bucket/team/ds/"),
            Ok(DataLocation::Object {
                cloud: Cloud::S3,
                url: "s3://bucket/team/ds".into()
            })
        );
        assert!(matches!(
            DataLocation::parse("gs://b/p"),
            Ok(DataLocation::Object {
                cloud: Cloud::Gcs,
                ..
            })
        ));
        assert!(matches!(
            DataLocation::parse("az://container/p"),
            Ok(DataLocation::Object {
                cloud: Cloud::Azure,
                ..
            })
        ));
    }

    #[test]
    fn unknown_schemes_missing_buckets_and_credentials_in_urls_are_refused() {
        let refused = DataLocation::parse("ftp://host/ds").expect_err("ftp");
        assert!(
            refused.starts_with("ftp:// is not a dataset location"),
            "{refused}"
        );
        assert!(DataLocation::parse("s3://").is_err());
        let secret = DataLocation::parse("s3://AKIA:hunter2@bucket/ds").expect_err("creds");
        assert!(!secret.contains("hunter2"), "{secret}");
        // A Windows-style or odd path with no scheme stays a path.
        assert_eq!(
            DataLocation::parse("data/with:colon"),
            Ok(DataLocation::Local("data/with:colon".into()))
        );
    }
}
