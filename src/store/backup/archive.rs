//! The backup file: a tar archive whose first entry is `manifest.json` and whose second is the
//! database payload, written under a temporary name and renamed into place when complete.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use super::{FORMAT, FORMAT_VERSION, Manifest};

const MANIFEST: &str = "manifest.json";
/// A manifest is a few kilobytes; anything bigger is not one.
const MANIFEST_MAX_BYTES: u64 = 1024 * 1024;

/// Size and SHA-256 (hex) of a file.
pub fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hashing = HashingWriter::new(std::io::sink());
    let bytes = std::io::copy(&mut file, &mut hashing)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((bytes, hashing.hex()))
}

/// Writes the archive to `file` (which must not exist): first as a temporary file in `work`
/// (on the same file system), synced, then renamed.
pub fn write(file: &Path, work: &Path, manifest: &Manifest, payload: &Path) -> anyhow::Result<()> {
    let partial = work.join("backup.partial");
    // It holds personal data: readable by its owner only.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let out = options
        .open(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let mut tar = tar::Builder::new(BufWriter::new(out));
    let json = serde_json::to_vec_pretty(manifest).context("writing the manifest")?;
    let mtime = u64::try_from(manifest.created_at.timestamp()).unwrap_or_default();
    tar.append_data(
        &mut header(json.len() as u64, mtime),
        MANIFEST,
        json.as_slice(),
    )
    .context("writing the backup")?;
    let mut data =
        File::open(payload).with_context(|| format!("cannot read {}", payload.display()))?;
    let length = data.metadata()?.len();
    tar.append_data(
        &mut header(length, mtime),
        &manifest.payload.name,
        &mut data,
    )
    .context("writing the backup")?;
    let out = tar
        .into_inner()
        .context("writing the backup")?
        .into_inner()
        .map_err(|e| e.into_error())
        .context("writing the backup")?;
    out.sync_all().context("writing the backup")?;
    if file.exists() {
        bail!("{} appeared while the backup was written", file.display());
    }
    std::fs::rename(&partial, file)
        .with_context(|| format!("cannot move the backup to {}", file.display()))?;
    Ok(())
}

fn header(size: u64, mtime: u64) -> tar::Header {
    // GNU headers: a database over 8 GiB still fits.
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header
}

fn not_a_backup(file: &Path) -> String {
    format!(
        "{} is not a Homeward backup (expected a tar archive made by `homeward backup`, \
         starting with {MANIFEST})",
        file.display()
    )
}

/// Reads and checks the manifest of a backup file.
pub fn read_manifest(file: &Path) -> anyhow::Result<Manifest> {
    let reader = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(BufReader::new(reader));
    let mut entries = archive.entries().with_context(|| not_a_backup(file))?;
    let mut first = entries
        .next()
        .with_context(|| not_a_backup(file))?
        .with_context(|| not_a_backup(file))?;
    let is_manifest = first
        .path()
        .map(|p| p.as_os_str() == MANIFEST)
        .unwrap_or(false);
    if !is_manifest || first.size() > MANIFEST_MAX_BYTES {
        bail!(not_a_backup(file));
    }
    let mut json = String::new();
    first
        .read_to_string(&mut json)
        .with_context(|| not_a_backup(file))?;
    let value: serde_json::Value =
        serde_json::from_str(&json).with_context(|| not_a_backup(file))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        bail!(not_a_backup(file));
    }
    let version = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .unwrap_or_default();
    if version > u64::from(FORMAT_VERSION) {
        bail!(
            "{} was written by a newer Homeward (backup format {version}; this one reads up to \
             {FORMAT_VERSION})",
            file.display()
        );
    }
    let manifest: Manifest = serde_json::from_value(value)
        .with_context(|| format!("the manifest of {} is damaged", file.display()))?;
    if manifest.payload.name != manifest.backend.payload_name() {
        bail!(
            "the manifest of {} is damaged (payload name)",
            file.display()
        );
    }
    Ok(manifest)
}

pub async fn read_manifest_blocking(file: &Path) -> anyhow::Result<Manifest> {
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || read_manifest(&file))
        .await
        .context("reading the backup")?
}

/// Copies the payload of `file` into `folder` and checks it against the manifest's size and
/// SHA-256 before anyone uses it; returns its path.
pub fn extract_payload(file: &Path, manifest: &Manifest, folder: &Path) -> anyhow::Result<PathBuf> {
    let reader = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(BufReader::new(reader));
    let damaged = || format!("{} is damaged or incomplete", file.display());
    for entry in archive.entries().with_context(damaged)? {
        let mut entry = entry.with_context(damaged)?;
        if entry.path().with_context(damaged)?.as_os_str() != manifest.payload.name.as_str() {
            continue;
        }
        // The name is one of two constants (checked with the manifest), never a path.
        let dest = folder.join(manifest.backend.payload_name());
        let out =
            File::create_new(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
        let mut hashing = HashingWriter::new(BufWriter::new(out));
        let bytes = std::io::copy(&mut entry, &mut hashing).with_context(damaged)?;
        let sha256 = hashing.hex();
        hashing
            .inner
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        if bytes != manifest.payload.bytes || sha256 != manifest.payload.sha256 {
            bail!(
                "{} is damaged: its database ({}) is {bytes} bytes with SHA-256 {sha256}, but \
                 was {} bytes with SHA-256 {} when the backup was made",
                file.display(),
                manifest.payload.name,
                manifest.payload.bytes,
                manifest.payload.sha256
            );
        }
        return Ok(dest);
    }
    bail!(
        "{} is incomplete: it has no {}",
        file.display(),
        manifest.payload.name
    )
}

pub async fn extract_payload_blocking(
    file: &Path,
    manifest: &Manifest,
    folder: &Path,
) -> anyhow::Result<PathBuf> {
    let (file, manifest, folder) = (file.to_path_buf(), manifest.clone(), folder.to_path_buf());
    tokio::task::spawn_blocking(move || extract_payload(&file, &manifest, &folder))
        .await
        .context("reading the backup")?
}

/// Passes bytes on while hashing them.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
