//! The few operations on raw ABI data both sides share: reading a borrowed [`Str`],
//! collecting what a callee writes to a [`Sink`], and catching panics.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

use crate::abi::{Sink, Status, Str};

/// Copies a borrowed string; `None` when it is not UTF-8.
///
/// # Safety
///
/// `text.ptr` must point to `text.len` readable bytes for the duration of the call
/// (the ABI's rule for every [`Str`]), or `len` must be 0.
pub(crate) unsafe fn copy_str(text: Str) -> Option<String> {
    if text.len == 0 {
        return Some(String::new());
    }
    if text.ptr.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees `ptr` points to `len` readable bytes for the
    // duration of this call; they are copied before returning.
    let bytes = unsafe { std::slice::from_raw_parts(text.ptr, text.len) };
    String::from_utf8(bytes.to_vec()).ok()
}

/// A [`Sink`] that appends to a `String` the caller owns.
pub(crate) struct Collector {
    text: String,
}

impl Collector {
    pub(crate) fn new() -> Self {
        Collector {
            text: String::new(),
        }
    }

    /// A sink writing into this collector; valid while the collector is neither
    /// moved nor dropped.
    pub(crate) fn sink(&mut self) -> Sink {
        Sink {
            ctx: (&mut self.text as *mut String).cast::<c_void>(),
            write: collect,
        }
    }

    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

/// Appends `text` to the `String` behind `ctx`.
unsafe extern "C" fn collect(ctx: *mut c_void, text: Str) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is the `String` of the `Collector` that made this sink, which
        // outlives the call the sink was passed to (see `Collector::sink`).
        let target = unsafe { &mut *ctx.cast::<String>() };
        // SAFETY: the ABI's rule: `text` is valid for the duration of this call.
        match unsafe { copy_str(text) } {
            Some(copied) => target.push_str(&copied),
            None => target.push_str("<text that is not UTF-8>"),
        }
    }));
}

/// Writes `text` to `sink`, when there is one.
///
/// # Safety
///
/// `sink` is null or points to a [`Sink`] valid for the duration of the call.
pub(crate) unsafe fn write(sink: *const Sink, text: &str) {
    if sink.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `sink` points to a valid sink for this call.
    let sink = unsafe { &*sink };
    // SAFETY: `text` outlives the call; the callee copies it (the ABI's rule).
    unsafe { (sink.write)(sink.ctx, Str::new(text)) }
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `body`, catching panics: its answer or error message goes to `reply`.
///
/// # Safety
///
/// `reply` is null or points to a [`Sink`] valid for the duration of the call.
pub(crate) unsafe fn answer(
    reply: *const Sink,
    body: impl FnOnce() -> Result<String, (Status, String)>,
) -> Status {
    let (status, text) = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(answer)) => (Status::OK, answer),
        Ok(Err(failure)) => failure,
        Err(payload) => (Status::PANIC, panic_message(payload.as_ref())),
    };
    // SAFETY: forwarded from the caller.
    unsafe { write(reply, &text) };
    status
}

/// The JSON text of `value`.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, (Status, String)> {
    serde_json::to_string(value).map_err(|e| (Status::ERROR, e.to_string()))
}

/// Reads a JSON request.
pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, (Status, String)> {
    serde_json::from_str(text).map_err(|e| (Status::INVALID_REQUEST, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_text_is_a_copy() {
        let mut collector = Collector::new();
        let sink = collector.sink();
        {
            let borrowed = String::from("héllo");
            // SAFETY: the sink's collector is alive; `borrowed` outlives the call.
            unsafe { write(&sink, &borrowed) };
        }
        assert_eq!(collector.into_text(), "héllo");
    }

    #[test]
    fn answers_catch_panics() {
        let mut collector = Collector::new();
        let sink = collector.sink();
        // SAFETY: the sink's collector is alive for the call.
        let status = unsafe { answer(&sink, || panic!("boom")) };
        assert_eq!(status, Status::PANIC);
        assert_eq!(collector.into_text(), "boom");
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let bytes = [0xff_u8, 0xfe];
        let text = Str {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        };
        // SAFETY: `bytes` is alive and `len` long.
        assert_eq!(unsafe { copy_str(text) }, None);
    }
}
