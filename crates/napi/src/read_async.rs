//! The image readers (`readPartitionTable`, `readFat32`, `readErofs`, `readExt4`,
//! `readSquashfs`) on a worker thread, for the library's asynchronous `inspect`: the same
//! functions, run by libuv's thread pool so that reading a large or slow image does not hold up the JavaScript thread.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::erofs_read::{read_erofs, ErofsReport};
use crate::fat32_read::{read_fat32, Fat32Report};
use crate::fs_probe::{read_ext4, read_squashfs, Ext4Report, SquashfsReport};
use crate::gpt::{read_partition_table, PartitionTable};

type Read<T> = Box<dyn FnOnce() -> Result<T> + Send>;

/// One read, run once on a worker thread. `pub`: the return type of the napi functions below.
pub struct ReadTask<T> {
    read: Option<Read<T>>,
}

impl<T> ReadTask<T> {
    fn new(read: impl FnOnce() -> Result<T> + Send + 'static) -> AsyncTask<ReadTask<T>>
    where
        T: ToNapiValue + TypeName + Send + 'static,
    {
        AsyncTask::new(ReadTask {
            read: Some(Box::new(read)),
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for ReadTask<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let read = self
            .read
            .take()
            .ok_or_else(|| Error::from_reason("the read ran twice"))?;
        read()
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// `readPartitionTable` on a worker thread.
#[napi(ts_return_type = "Promise<PartitionTable>")]
pub fn read_partition_table_async(
    path: String,
    sector_size: Option<u32>,
) -> AsyncTask<ReadTask<PartitionTable>> {
    ReadTask::new(move || read_partition_table(path, sector_size))
}

/// `readFat32` on a worker thread.
#[napi(ts_return_type = "Promise<Fat32Report | null>")]
pub fn read_fat32_async(
    image: String,
    offset: f64,
    length: f64,
    with_files: bool,
) -> AsyncTask<ReadTask<Option<Fat32Report>>> {
    ReadTask::new(move || read_fat32(image, offset, length, with_files))
}

/// `readErofs` on a worker thread.
#[napi(ts_return_type = "Promise<ErofsReport | null>")]
pub fn read_erofs_async(
    image: String,
    offset: f64,
    length: f64,
    with_files: bool,
) -> AsyncTask<ReadTask<Option<ErofsReport>>> {
    ReadTask::new(move || read_erofs(image, offset, length, with_files))
}

/// `readExt4` on a worker thread.
#[napi(ts_return_type = "Promise<Ext4Report | null>")]
pub fn read_ext4_async(
    image: String,
    offset: f64,
    length: f64,
) -> AsyncTask<ReadTask<Option<Ext4Report>>> {
    ReadTask::new(move || read_ext4(image, offset, length))
}

/// `readSquashfs` on a worker thread.
#[napi(ts_return_type = "Promise<SquashfsReport | null>")]
pub fn read_squashfs_async(
    image: String,
    offset: f64,
    length: f64,
) -> AsyncTask<ReadTask<Option<SquashfsReport>>> {
    ReadTask::new(move || read_squashfs(image, offset, length))
}
