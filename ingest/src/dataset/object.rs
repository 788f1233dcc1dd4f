//! A dataset on object storage (S3 and S3-compatible servers, Google Cloud Storage, Azure
//! Blob Storage), through the `object_store` crate that polars also reads with.
//!
//! The commit protocol needs one atomic operation, create-if-absent, which `object_store`
//! maps to each store's conditional write (S3 `If-None-Match: *`, GCS
//! `ifGenerationMatch=0`, Azure `If-None-Match: *`). Data files are staged in a local
//! temporary folder and uploaded (in parts above [`MULTIPART_FROM`]).
//!
//! Nothing this module reports carries a credential: messages name the dataset's URL, and
//! any secret value from the environment or the AWS files that still appears in an
//! error's text is replaced by `***`.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};

use super::location::Cloud;
use super::store::{ObjectInfo, Store};
use crate::error::{IngestError, Result};

/// Files at least this large are uploaded in parts.
const MULTIPART_FROM: u64 = 32 << 20;

/// Files smaller than this are published several at once, each read whole into memory
/// first; larger ones one after the other. A commit's files are almost all small (an
/// ingest's part files: one per table and day, a few hundred rows each), and each upload is
/// a round trip to a remote service: one after the other, a Claude Code history's hundred
/// files waited on a hundred round trips (docs/benchmarks.md).
const UPLOADED_TOGETHER_BELOW: u64 = 8 << 20;

/// At most this many objects read at once by [`Store::get_all`] (commit records: a few
/// kilobytes each).
const READS_AT_ONCE: usize = 32;

/// At most this many uploads in flight at once.
const UPLOADS_AT_ONCE: usize = 32;

/// At most this many bytes of small files held in memory by the uploads in flight, plus one
/// larger file's (in parts of 5 MB above [`MULTIPART_FROM`], whole below).
const UPLOAD_BYTES_AT_ONCE: u64 = 64 << 20;

/// The unit in which [`UPLOAD_BYTES_AT_ONCE`] is shared out.
const UPLOAD_BYTES_PER_PERMIT: u64 = 64 << 10;

/// A dataset under `<scheme>://<bucket>/<prefix>`.
pub struct ObjectStorage {
    url: String,
    store: Arc<dyn ObjectStore>,
    prefix: String,
    runtime: tokio::runtime::Runtime,
    /// Where this handle's commits write their files before uploading them: a fresh folder
    /// under the system's temporary directory, removed with the handle.
    staging: tempfile::TempDir,
    /// Settings found outside the environment (the AWS profile files), for polars' reader.
    reader_options: Vec<(String, String)>,
    /// Secret values to scrub from messages.
    secrets: Vec<String>,
}

impl fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the options: they may hold credentials.
        f.debug_struct("ObjectStorage")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ObjectStorage {
    /// Configures the client for `url` from the environment (and, for S3, the AWS profile
    /// files). No request is made yet.
    pub fn connect(cloud: Cloud, url: &str) -> Result<ObjectStorage> {
        let unusable = |reason: String| IngestError::Storage {
            location: url.to_string(),
            action: "configuring the object store".into(),
            reason,
        };
        let mut reader_options = Vec::new();
        let mut secrets = env_secrets();
        let store: Arc<dyn ObjectStore> = match cloud {
            Cloud::S3 => {
                use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
                let mut builder = AmazonS3Builder::from_env().with_url(url);
                for (key, value) in aws_profile_settings() {
                    if key.contains("secret") || key.contains("token") {
                        secrets.push(value.clone());
                    }
                    if let Ok(config) = key.parse::<AmazonS3ConfigKey>() {
                        builder = builder.with_config(config, value.clone());
                        reader_options.push((key, value));
                    }
                }
                let endpoint = std::env::var("AWS_ENDPOINT_URL")
                    .or_else(|_| std::env::var("AWS_ENDPOINT"))
                    .ok()
                    .or_else(|| {
                        reader_options
                            .iter()
                            .find(|(k, _)| k == "aws_endpoint_url")
                            .map(|(_, v)| v.clone())
                    });
                // A plain-HTTP endpoint (a server on loopback) is allowed when named so.
                if endpoint.is_some_and(|e| e.starts_with("http://"))
                    && std::env::var_os("AWS_ALLOW_HTTP").is_none()
                {
                    builder = builder.with_allow_http(true);
                    reader_options.push(("aws_allow_http".into(), "true".into()));
                }
                Arc::new(builder.build().map_err(|e| unusable(e.to_string()))?)
            }
            Cloud::Gcs => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(|e| unusable(e.to_string()))?,
            ),
            Cloud::Azure => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(|e| unusable(e.to_string()))?,
            ),
        };
        let prefix = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split_once('/'))
            .map(|(_, prefix)| prefix.trim_matches('/').to_string())
            .unwrap_or_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| unusable(e.to_string()))?;
        let staging = tempfile::Builder::new()
            .prefix("runlens-staging-")
            .tempdir()
            .map_err(|e| unusable(format!("creating a staging folder: {e}")))?;
        Ok(ObjectStorage {
            url: url.to_string(),
            store,
            prefix,
            runtime,
            staging,
            reader_options,
            secrets,
        })
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Runs `future` on this store's runtime, from any thread (also one inside another
    /// runtime, such as the capture proxy's).
    fn run<F>(&self, future: F) -> F::Output
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.runtime.block_on(future);
        }
        std::thread::scope(|s| match s.spawn(|| self.runtime.block_on(future)).join() {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }

    fn error(&self, action: String, e: &dyn fmt::Display) -> IngestError {
        let mut reason = concise(&e.to_string());
        for secret in &self.secrets {
            if secret.len() >= 4 {
                reason = reason.replace(secret.as_str(), "***");
            }
        }
        IngestError::Storage {
            location: self.url.clone(),
            action,
            reason,
        }
    }

    /// The objects under `prefix` (after the key `after`, when given: the store lists from
    /// that offset on, so a reader does not page through every commit record), sorted.
    fn listing(&self, prefix: &str, after: Option<&str>) -> Result<Vec<ObjectInfo>> {
        let base = self.path(prefix.trim_end_matches('/'));
        let offset = after.map(|key| self.path(key));
        let listed = self.run(async {
            let stream = match &offset {
                Some(offset) => self.store.list_with_offset(Some(&base), offset),
                None => self.store.list(Some(&base)),
            };
            stream.try_collect::<Vec<object_store::ObjectMeta>>().await
        });
        let listed = listed.map_err(|e| self.error(format!("listing {prefix}"), &e))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut found: Vec<ObjectInfo> = listed
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.as_ref().strip_prefix(strip.as_str())?;
                Some(ObjectInfo {
                    key: key.to_string(),
                    size: meta.size,
                    modified: SystemTime::from(meta.last_modified),
                })
            })
            .filter(|o| after.is_none_or(|after| o.key.as_str() > after))
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// `key`'s bytes, `None` if there is no such object.
    async fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key);
        let fetched = match self.store.get(&path).await {
            Ok(found) => found.bytes().await.map(Some),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        };
        fetched
            .map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| self.error(format!("reading {key}"), &e))
    }

    async fn upload(&self, staged: &Path, path: &ObjectPath) -> std::result::Result<(), String> {
        let size = std::fs::metadata(staged).map_err(|e| e.to_string())?.len();
        if size < MULTIPART_FROM {
            let bytes = std::fs::read(staged).map_err(|e| e.to_string())?;
            self.store
                .put(path, PutPayload::from(bytes))
                .await
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(path)
            .await
            .map_err(|e| e.to_string())?;
        let mut writer = WriteMultipart::new(upload);
        let mut file = std::fs::File::open(staged).map_err(|e| e.to_string())?;
        let mut buffer = vec![0u8; 8 << 20];
        loop {
            let n = file.read(&mut buffer).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            writer.write(&buffer[..n]);
        }
        writer.finish().await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Store for ObjectStorage {
    fn location(&self) -> &str {
        &self.url
    }

    fn create_new(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let path = self.path(key);
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let payload = PutPayload::from(bytes.to_vec());
        match self.run(self.store.put_opts(&path, payload, options)) {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(false),
            Err(e) => Err(self.error(format!("creating {key}"), &e)),
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key);
        let payload = PutPayload::from(bytes.to_vec());
        self.run(self.store.put(&path, payload))
            .map(|_| ())
            .map_err(|e| self.error(format!("writing {key}"), &e))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.run(self.fetch(key))
    }

    /// Reads up to [`READS_AT_ONCE`] of `keys` at a time: a reader catching up with the
    /// commit log reads every record since the latest checkpoint (up to 99), and one after
    /// the other those were as many round trips (docs/benchmarks.md).
    fn get_all(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let fetches = futures_util::stream::iter(keys.iter().map(|key| self.fetch(key)))
            .buffered(READS_AT_ONCE)
            .try_collect();
        self.run(fetches)
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        self.listing(prefix, None)
    }

    fn list_after(&self, prefix: &str, after: &str) -> Result<Vec<ObjectInfo>> {
        self.listing(prefix, Some(after))
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key);
        match self.run(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(format!("deleting {key}"), &e)),
        }
    }

    fn publish(&self, staged: &Path, key: &str) -> Result<()> {
        let path = self.path(key);
        self.run(self.upload(staged, &path))
            .map_err(|e| self.error(format!("uploading {key}"), &e))
    }

    /// Uploads the small files up to [`UPLOADS_AT_ONCE`] and [`UPLOAD_BYTES_AT_ONCE`] at a
    /// time, then the large ones one after the other. The first failure stops the rest
    /// (uploads in flight are abandoned: an object appears only once its upload completes);
    /// files already uploaded are named by no commit record, so no reader sees them, and
    /// `runlens vacuum` removes them.
    fn publish_all(&self, files: &[(&Path, &str)]) -> Result<()> {
        let sizes: Vec<u64> = files
            .iter()
            .map(|(staged, _)| {
                std::fs::metadata(staged)
                    .map(|m| m.len())
                    .map_err(|e| IngestError::io("reading", staged, e))
            })
            .collect::<Result<_>>()?;
        let (small, large): (Vec<_>, Vec<_>) = files
            .iter()
            .zip(&sizes)
            .partition(|(_, size)| **size < UPLOADED_TOGETHER_BELOW);
        let budget =
            tokio::sync::Semaphore::new((UPLOAD_BYTES_AT_ONCE / UPLOAD_BYTES_PER_PERMIT) as usize);
        let budget = &budget;
        let uploads =
            futures_util::stream::iter(small.into_iter().map(|(&(staged, key), size)| {
                let path = self.path(key);
                // Below UPLOADED_TOGETHER_BELOW: at most 128 of the 1,024 permits.
                let permits = size.div_ceil(UPLOAD_BYTES_PER_PERMIT).max(1) as u32;
                async move {
                    let uploading =
                        |e: &dyn fmt::Display| self.error(format!("uploading {key}"), e);
                    let _held = budget
                        .acquire_many(permits)
                        .await
                        .map_err(|e| uploading(&e))?;
                    self.upload(staged, &path).await.map_err(|e| uploading(&e))
                }
            }))
            .buffer_unordered(UPLOADS_AT_ONCE)
            .try_collect::<Vec<()>>();
        self.run(uploads)?;
        large
            .into_iter()
            .try_for_each(|(&(staged, key), _)| self.publish(staged, key))
    }

    fn staging_root(&self) -> PathBuf {
        self.staging.path().to_path_buf()
    }

    fn reader_path(&self, key: &str) -> String {
        if key.is_empty() {
            self.url.clone()
        } else {
            format!("{}/{key}", self.url)
        }
    }

    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }

    fn reader_options(&self) -> Vec<(String, String)> {
        self.reader_options.clone()
    }
}

/// The gist of an object-store error in one short line: the service's error code and
/// message with the HTTP status, or that the endpoint could not be reached.
fn concise(message: &str) -> String {
    let message = message.replace('\n', " ");
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = message.find(&open)? + open.len();
        let end = message[start..].find(&format!("</{name}>"))? + start;
        Some(message[start..end].to_string())
    };
    let status = message
        .find("status code: ")
        .map(|i| &message[i + "status code: ".len()..])
        .and_then(|rest| rest.split(':').next())
        .map(str::trim);
    if let Some(code) = tag("Code") {
        let detail = tag("Message").unwrap_or_default();
        return match status {
            Some(status) => format!("{code}: {detail} (HTTP {status})"),
            None => format!("{code}: {detail}"),
        };
    }
    if let Some(status) = status {
        return format!("the store answered HTTP {status}");
    }
    if message.contains("error sending request") || message.contains("HTTP error") {
        let endpoint = message
            .find("http")
            .map(|i| &message[i..])
            .and_then(|rest| rest.split(['?', ' ']).next())
            .map(|url| url.split('/').take(3).collect::<Vec<_>>().join("/"))
            .unwrap_or_default();
        return format!("cannot reach the endpoint {endpoint} (error sending request)");
    }
    message.chars().take(300).collect()
}

/// Values of credential variables in the environment (scrubbed from messages).
fn env_secrets() -> Vec<String> {
    std::env::vars()
        .filter(|(k, _)| {
            let k = k.to_ascii_uppercase();
            (k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("GOOGLE_"))
                && (k.contains("SECRET")
                    || k.contains("TOKEN")
                    || k.contains("KEY")
                    || k.contains("PASSWORD"))
                && !k.contains("KEY_ID")
        })
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .collect()
}

/// S3 settings of the AWS shared files (`~/.aws/credentials`, `~/.aws/config`, or
/// `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`) for the profile `AWS_PROFILE` (else
/// `default`), as `object_store` configuration keys; only what the environment does not
/// set already.
fn aws_profile_settings() -> Vec<(String, String)> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let mut settings: Vec<(String, String)> = Vec::new();
    let sources = [
        (
            file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            profile.clone(),
        ),
        (
            file("AWS_CONFIG_FILE", "config"),
            if profile == "default" {
                profile.clone()
            } else {
                format!("profile {profile}")
            },
        ),
    ];
    for (path, section) in sources {
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        for (key, value) in ini_section(&text, &section) {
            let (config, env) = match key.as_str() {
                "aws_access_key_id" => ("aws_access_key_id", "AWS_ACCESS_KEY_ID"),
                "aws_secret_access_key" => ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                "aws_session_token" => ("aws_session_token", "AWS_SESSION_TOKEN"),
                "region" => ("aws_region", "AWS_REGION"),
                "endpoint_url" => ("aws_endpoint_url", "AWS_ENDPOINT_URL"),
                _ => continue,
            };
            let set_in_env = std::env::var_os(env).is_some()
                || (env == "AWS_REGION" && std::env::var_os("AWS_DEFAULT_REGION").is_some());
            if !set_in_env && !settings.iter().any(|(k, _)| k == config) {
                settings.push((config.to_string(), value));
            }
        }
    }
    settings
}

/// The `key = value` lines of `[section]` in an INI text, keys lower-cased.
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut found = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
            continue;
        }
        if inside && let Some((key, value)) = line.split_once('=') {
            found.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_are_told_in_one_short_line() {
        let missing = "Generic S3 error: Error performing list request: Error performing GET http://127.0.0.1:9123/nb?list-type=2 in 10ms - Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?> <Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(
            concise(missing),
            "NoSuchBucket: The specified bucket does not exist (HTTP 404 Not Found)"
        );
        let unreachable = "Generic S3 error: Error performing list request: Error performing GET http://127.0.0.1:1/b?list-type=2&prefix=x in 2.9s, after 10 retries - HTTP error: error sending request";
        assert_eq!(
            concise(unreachable),
            "cannot reach the endpoint http://127.0.0.1:1 (error sending request)"
        );
    }

    #[test]
    fn each_handle_stages_in_its_own_folder_removed_with_it() {
        let first = ObjectStorage::connect(Cloud::S3, "s3://bucket/prefix").expect("configures");
        let second = ObjectStorage::connect(Cloud::S3, "s3://bucket/prefix").expect("configures");
        let (first_root, second_root) = (first.staging_root(), second.staging_root());
        assert_ne!(
            first_root, second_root,
            "two handles of one process share no folder"
        );
        std::fs::write(first_root.join("part.parquet"), b"staged").expect("writes");
        drop(first);
        assert!(!first_root.exists(), "the folder goes with its handle");
        assert!(second_root.is_dir(), "the other handle's folder stays");
    }

    /// A handle on an in-memory object store, its staging folder as for S3.
    fn in_memory(url: &str) -> ObjectStorage {
        let mut storage = ObjectStorage::connect(Cloud::S3, url).expect("configures");
        storage.store = Arc::new(object_store::memory::InMemory::new());
        storage
    }

    /// More commits than are fetched at once: what an ingest reads before it parses (the
    /// stored files and transcript ids) comes back whole, with the latest row of a path
    /// winning, as from a local dataset.
    #[test]
    fn stored_files_and_ids_of_many_commits_read_in_groups() {
        use crate::dataset::Dataset;
        use crate::dataset::log::CommitKind;
        use crate::schema::{IngestLogRow, LlmCallRow, Table, Timestamp, ToolCallRow};
        let dataset = Dataset::with_store(Arc::new(in_memory("s3://bucket/many")));
        let writer = dataset.writer().expect("writer");
        let day = 1_795_305_600_000_000_i64;
        let commits = super::super::index::FETCH_FILES + 8;
        for n in 0..commits {
            // Ids that sort as they were made, as real ones (a timestamp first) do.
            let commit = writer
                .begin(&format!("c{n:03}"), CommitKind::Ingest)
                .expect("begin");
            let call = |source: &str, i: usize| LlmCallRow {
                call_id: format!("msg_{n}_{i}"),
                source: source.into(),
                start_ts: Some(Timestamp(day + n as i64 * 86_400_000_000)),
                ..LlmCallRow::default()
            };
            commit
                .stage(
                    &[
                        call("transcript", 0),
                        call("transcript", 1),
                        call("proxy", 2),
                    ],
                    Timestamp(0),
                )
                .expect("stage");
            let tool = ToolCallRow {
                tool_call_id: format!("toolu_{n}"),
                session_id: Some("s".into()),
                ..ToolCallRow::default()
            };
            commit.stage(&[tool], Timestamp(0)).expect("stage");
            // Every commit stores /in/same.jsonl again, one byte longer; and a file of its own.
            let log = |path: String, size: i64| IngestLogRow {
                content_hash: Some(format!("hash-{path}-{size}")),
                status: "ingested".into(),
                ingest_id: format!("i{n}").into(),
                absolute_path: Some(path),
                size_bytes: Some(size),
                file_modified_ts: Some(Timestamp(size)),
                ..IngestLogRow::default()
            };
            let rows = [
                log("/in/same.jsonl".into(), 100 + n as i64),
                log(format!("/in/{n}.jsonl"), 7),
            ];
            commit
                .finish(&rows, Timestamp(day + n as i64 * 1_000_000))
                .expect("finish");
        }
        assert!(dataset.table_files(Table::LlmCalls).expect("files").len() >= commits);

        let ids = dataset.stored_transcript_ids().expect("ids");
        assert_eq!(ids.calls.len(), 2 * commits, "the proxy calls are left out");
        assert_eq!(ids.tool_calls.len(), commits);
        for n in 0..commits {
            for i in 0..2 {
                let id = super::super::index::fingerprint(&format!("msg_{n}_{i}"));
                assert!(ids.calls.contains(&id), "msg_{n}_{i}");
            }
        }
        let known = dataset.known_files().expect("known files");
        assert_eq!(known.len(), commits + 1);
        let latest = &known["/in/same.jsonl"];
        assert_eq!(
            latest.size_bytes,
            100 + commits as i64 - 1,
            "the last commit's row wins"
        );
        assert_eq!(known["/in/3.jsonl"].size_bytes, 7);
    }

    #[test]
    fn a_commits_files_are_all_published_small_and_large() {
        let storage = in_memory("s3://bucket/prefix");
        let staging = storage.staging_root();
        // 40 small files (more than are uploaded at once), one over UPLOADED_TOGETHER_BELOW.
        let mut files: Vec<(PathBuf, String, Vec<u8>)> = (0..40u8)
            .map(|i| {
                let bytes = vec![i; 1 + usize::from(i) * 997];
                (
                    staging.join(format!("{i}.parquet")),
                    format!("t/d={i}/{i}.parquet"),
                    bytes,
                )
            })
            .collect();
        let large = vec![7u8; UPLOADED_TOGETHER_BELOW as usize + 1];
        files.push((
            staging.join("large.parquet"),
            "t/large.parquet".into(),
            large,
        ));
        for (staged, _, bytes) in &files {
            std::fs::write(staged, bytes).expect("stages");
        }
        let moves: Vec<(&Path, &str)> = files
            .iter()
            .map(|(staged, key, _)| (staged.as_path(), key.as_str()))
            .collect();
        storage.publish_all(&moves).expect("publishes");
        for (_, key, bytes) in &files {
            let stored = storage.get(key).expect("reads");
            assert_eq!(stored.as_deref(), Some(bytes.as_slice()), "{key}");
        }
        assert_eq!(storage.list("t/").expect("lists").len(), files.len());
    }

    #[test]
    fn objects_read_together_come_back_in_the_order_asked_absent_ones_as_none() {
        let storage = in_memory("s3://bucket/prefix");
        let mut keys = Vec::new();
        for i in 0..70u32 {
            let key = format!("_runlens/commits/{i:020}.json");
            if i % 7 != 3 {
                storage.put(&key, i.to_string().as_bytes()).expect("writes");
            }
            keys.push(key);
        }
        let read = storage.get_all(&keys).expect("reads");
        let expected: Vec<Option<Vec<u8>>> = (0..70u32)
            .map(|i| (i % 7 != 3).then(|| i.to_string().into_bytes()))
            .collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn a_staged_file_gone_missing_fails_the_publication_by_name() {
        let storage = in_memory("s3://bucket/prefix");
        let kept = storage.staging_root().join("kept.parquet");
        std::fs::write(&kept, b"rows").expect("stages");
        let gone = storage.staging_root().join("gone.parquet");
        let moves = [
            (kept.as_path(), "t/kept.parquet"),
            (gone.as_path(), "t/gone.parquet"),
        ];
        let error = storage.publish_all(&moves).expect_err("a file is missing");
        assert!(error.to_string().contains("gone.parquet"), "{error}");
    }

    #[test]
    fn ini_sections_are_read_by_name() {
        let text = "[default]\nregion = eu-west-1\n\n[profile ci]\n# comment\nregion=us-east-2\nendpoint_url = http://127.0.0.1:9000\n";
        assert_eq!(
            ini_section(text, "profile ci"),
            [
                ("region".to_string(), "us-east-2".to_string()),
                (
                    "endpoint_url".to_string(),
                    "http://127.0.0.1:9000".to_string()
                )
            ]
        );
        assert_eq!(ini_section(text, "default").len(), 1);
        assert!(ini_section(text, "missing").is_empty());
    }
}
