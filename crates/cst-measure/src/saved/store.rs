//! Saving a backend's store and opening it again: the part of the saved form that knows the backend
//! ([`Backend::save`] writes its sections, [`Backend::open`] reads them back) over the container of its
//! parent module, which knows none. Saving writes the whole file beside the target and renames it; opening
//! maps the file and runs every check before the store reads anything.

use super::*;
use crate::backend::{Backend, CstStore};

/// Saves `store` (whose file `i` came from `paths[i]`) to `path` atomically, as backend `B`'s saved form;
/// returns the bytes written. A backend without a saved form is an error, and so is a failed write: in
/// every case `path` is left as it was.
pub fn save<B: Backend>(store: &B::Store, paths: &[String], path: &Path) -> Result<u64, SaveError> {
    let error = |what: String| SaveError {
        file: path.to_path_buf(),
        what,
    };
    let Some(format) = B::SAVED_FORMAT else {
        return Err(error(format!("backend {} has no saved form", B::NAME)));
    };
    if paths.len() != store.len() {
        return Err(error(format!(
            "{} paths for a store of {} files",
            paths.len(),
            store.len()
        )));
    }
    // The backend's sections first: it refuses a store it cannot save (one not finished, say) before
    // anything reads the store's files.
    let mut own = Sections::default();
    B::save(store, &mut own).map_err(error)?;
    let mut entries = Vec::with_capacity(store.len() * FILE_ENTRY);
    let mut all_paths = String::new();
    for (i, file_path) in paths.iter().enumerate() {
        let text = store.text(i);
        all_paths.push_str(file_path);
        let path_end = u32::try_from(all_paths.len())
            .map_err(|_| error("the paths take more than 4 GiB".into()))?;
        entries.extend_from_slice(&(text.len() as u64).to_le_bytes());
        entries.extend_from_slice(&hash(text.as_bytes()).to_le_bytes());
        entries.extend_from_slice(&path_end.to_le_bytes());
        entries.extend_from_slice(&[store.language(i).index() as u8, 0, 0, 0]);
    }
    let mut sections = Sections::default();
    sections.add(FILES, entries);
    sections.add(PATHS, all_paths.into_bytes());
    sections.list.append(&mut own.list);
    let header = Header {
        backend: B::NAME.to_string(),
        backend_format: format,
        tables_hash: B::saved_tables_hash(),
        grammars: GrammarStamp::all().to_vec(),
        files: store.len() as u64,
        sections: Vec::new(),
    };
    write_file(header, &sections.list, path).map_err(|e| error(e.to_string()))
}

/// A store opened from its saved form, with what the file says of it.
pub struct SavedStore<S> {
    pub store: S,
    pub opened: Opened,
}

/// Opens `path` as backend `B`'s saved form: maps it and checks it (see the module's docs) before the store
/// reads anything. Any problem is an [`OpenError`] naming the file.
pub fn open<B: Backend>(path: &Path) -> Result<SavedStore<B::Store>, OpenError> {
    let name = path.display().to_string();
    let error = |what: String| OpenError {
        file: name.clone(),
        what,
    };
    let file = File::open(path).map_err(|e| error(format!("cannot be opened: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| error(format!("cannot be read: {e}")))?
        .len();
    if len == 0 {
        return Err(error("is empty (0 bytes): not a saved CST store".into()));
    }
    let map = Arc::new(map::Map::new(&file).map_err(|e| error(format!("cannot be mapped: {e}")))?);
    let shared: map::Shared = Arc::clone(&map) as map::Shared;
    open_shared::<B>(name.clone(), shared, Some(map))
}

/// Opens a saved form held in memory (the same checks as [`open`], without a mapping: for tests, and for a
/// caller that cannot accept a mapped file's contract).
pub fn open_bytes<B: Backend>(
    name: &str,
    bytes: Vec<u8>,
) -> Result<SavedStore<B::Store>, OpenError> {
    open_shared::<B>(name.to_string(), Arc::new(bytes), None)
}

fn open_shared<B: Backend>(
    name: String,
    owner: map::Shared,
    map: Option<Arc<map::Map>>,
) -> Result<SavedStore<B::Store>, OpenError> {
    let error = |what: String| OpenError {
        file: name.clone(),
        what,
    };
    let header = check(&name, &owner).map_err(error)?;
    if header.backend != B::NAME {
        return Err(error(format!(
            "was saved by backend {}, not {}",
            header.backend,
            B::NAME
        )));
    }
    match B::SAVED_FORMAT {
        None => return Err(error(format!("backend {} has no saved form", B::NAME))),
        Some(format) if format != header.backend_format => {
            return Err(error(format!(
                "holds {}'s saved format version {}, this build reads {format}",
                B::NAME,
                header.backend_format
            )))
        }
        Some(_) => {}
    }
    if header.tables_hash != B::saved_tables_hash() {
        return Err(error(format!(
            "was saved with other compiled-in tables of {} (hash {:016x}, this build's {:016x}): stale",
            B::NAME,
            header.tables_hash,
            B::saved_tables_hash()
        )));
    }
    let len = owner.len();
    let opened = Opened {
        name: name.clone(),
        header,
        bytes: SharedBytes {
            owner,
            start: 0,
            len,
        },
        map,
    };
    let store = B::open(&opened).map_err(|what| opened.error(what))?;
    if store.len() != opened.file_count() {
        return Err(opened.error(format!(
            "the store holds {} files, the header says {}",
            store.len(),
            opened.file_count()
        )));
    }
    Ok(SavedStore { store, opened })
}
