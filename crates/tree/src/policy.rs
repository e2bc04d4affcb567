//! What a filesystem can hold: the options the scan follows, one set per filesystem.

/// The options of one scan. `Policy::default()` keeps everything a POSIX filesystem (EROFS,
/// ext4, squashfs) can hold and has no limits; FAT32 follows symlinks, refuses special files
/// and checks its names.
#[derive(Debug, Clone)]
pub struct Policy {
    pub symlinks: Symlinks,
    pub specials: Specials,
    /// Read extended attributes (of symlinks themselves where they are kept).
    pub xattrs: bool,
    /// Directories below the root a directory may be at (the root's children are at 1).
    pub max_depth: u32,
    /// Bytes a regular file may have.
    pub max_file_size: u64,
    pub names: Names,
    pub wording: Wording,
}

/// Symlinks below a source (a source path itself is always followed, like `cp -H`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symlinks {
    /// Put what they point to in their place; a loop back into a directory being walked is
    /// an error.
    Follow,
    /// Record them as symlinks with their target text.
    Keep,
}

/// FIFOs, sockets, character and block devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specials {
    /// They are an error: "... is a FIFO; " followed by [`Wording::specials`].
    Refuse,
    /// Record their kind and device number.
    Keep,
}

/// The filesystem's rule for names (targets' components and the sources' own names).
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// Ok, or why `name` cannot be a name in the filesystem.
    pub check: fn(&str) -> Result<(), String>,
    /// Names with the same key are the same name to the filesystem; two of them in one
    /// directory are an error unless they are equal. None: only equal names are the same.
    pub key: Option<fn(&str) -> String>,
}

/// How messages speak of the filesystem; each text completes a sentence of the scan.
#[derive(Debug, Clone, Copy)]
pub struct Wording {
    /// "a FAT name" in "/x/a:b (from ...) cannot be a FAT name: (why)".
    pub a_name: &'static str,
    /// "FAT names are Unicode" after "... has a name that is not valid UTF-8; ".
    pub unicode: &'static str,
    /// "differ only in case; FAT names are case-insensitive" between "/a and /A " and
    /// " (sources: ...)": two names with one key.
    pub same_key: &'static str,
    /// "only regular files and directories can go into a FAT filesystem" after
    /// "/dev/x (for /x) is a FIFO; ".
    pub specials: &'static str,
    /// "a FAT32 volume imgforge writes holds at most" before " 256 levels".
    pub depth: &'static str,
    /// "a FAT file holds at most" before " 4294967295 bytes".
    pub file_size: &'static str,
}

fn any_name(_: &str) -> Result<(), String> {
    Ok(())
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            symlinks: Symlinks::Keep,
            specials: Specials::Keep,
            xattrs: true,
            max_depth: u32::MAX,
            max_file_size: u64::MAX,
            names: Names {
                check: any_name,
                key: None,
            },
            wording: Wording {
                a_name: "a name in this filesystem",
                unicode: "names in the image are Unicode",
                same_key: "are the same name to this filesystem",
                specials:
                    "only regular files, directories and symlinks can go into this filesystem",
                depth: "the filesystem holds at most",
                file_size: "a file in this filesystem holds at most",
            },
        }
    }
}
