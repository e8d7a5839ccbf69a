//! The host's side of a lifecycle call: a [`HostTable`] whose callbacks answer a
//! plugin's requests from a [`PluginHost`].
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::mem::size_of;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cpg_infra::graph::{Resource, ResourceId, Value};
use cpg_infra::plugin::{GroupMemberRequest, LogLevel, PluginHost};
use serde_json::Value as Json;

use crate::abi::{HostTable, Sink, Status, Str};
use crate::ffi::{answer, copy_str, from_json, to_json};
use crate::messages::{Configs, ExportRequest, GroupAnswer, GroupRequest};

/// The state behind a table's `ctx`: the host the callbacks answer from.
struct Context<'a> {
    host: &'a mut dyn PluginHost,
}

/// Runs `call` with a table over `host`; the table is valid only during `call`.
pub(crate) fn with_table<T>(host: &mut dyn PluginHost, call: impl FnOnce(&HostTable) -> T) -> T {
    let mut context = Context { host };
    let table = HostTable {
        size: size_of::<HostTable>(),
        ctx: (&mut context as *mut Context<'_>).cast::<c_void>(),
        log,
        configs,
        declare,
        export,
        resource,
        add_group_member,
        group,
    };
    call(&table)
}

/// Runs `body` with the host behind `ctx` and the request's text.
///
/// # Safety
///
/// `ctx` is the `ctx` of a table [`with_table`] made, during its call; `request` and
/// `reply` follow the ABI's rules.
unsafe fn serve(
    ctx: *mut c_void,
    request: Str,
    reply: *const Sink,
    body: impl FnOnce(&mut dyn PluginHost, &str) -> Result<String, (Status, String)>,
) -> Status {
    let work = || {
        // SAFETY: `ctx` points to the live `Context` of `with_table` (caller's
        // guarantee); the plugin calls back on the thread that called it, while
        // `with_table`'s closure runs, so no other reference to it is in use.
        let context = unsafe { &mut *ctx.cast::<Context<'_>>() };
        // SAFETY: the ABI's rule: `request` is valid for the duration of the call.
        let text = unsafe { copy_str(request) }.ok_or_else(|| {
            (
                Status::INVALID_REQUEST,
                "the request is not UTF-8".to_owned(),
            )
        })?;
        body(&mut *context.host, &text)
    };
    // SAFETY: `reply` is forwarded from the caller, who guarantees it.
    unsafe { answer(reply, work) }
}

fn refused(error: impl std::fmt::Display) -> (Status, String) {
    (Status::ERROR, error.to_string())
}

fn invalid(error: impl std::fmt::Display) -> (Status, String) {
    (Status::INVALID_REQUEST, error.to_string())
}

unsafe extern "C" fn log(ctx: *mut c_void, level: u32, message: Str) -> Status {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `serve`: `ctx` is the live `Context` of `with_table`.
        let context = unsafe { &mut *ctx.cast::<Context<'_>>() };
        // SAFETY: the ABI's rule: `message` is valid for the duration of the call.
        let text = unsafe { copy_str(message) }.unwrap_or_else(|| "<not UTF-8>".to_owned());
        context.host.log(LogLevel::from_code(level), &text);
    }));
    if outcome.is_ok() {
        Status::OK
    } else {
        Status::PANIC
    }
}

unsafe extern "C" fn configs(ctx: *mut c_void, request: Str, reply: *const Sink) -> Status {
    // SAFETY: the plugin passes what the table's contract requires.
    unsafe {
        serve(ctx, request, reply, |host, _| {
            to_json(&Configs {
                infrastructure: host.infrastructure().clone(),
                datasets: host.datasets().to_vec(),
                context: host.context().clone(),
            })
        })
    }
}

unsafe extern "C" fn declare(ctx: *mut c_void, request: Str, reply: *const Sink) -> Status {
    // SAFETY: the plugin passes what the table's contract requires.
    unsafe {
        serve(ctx, request, reply, |host, text| {
            let json: Json = from_json(text)?;
            let resource = Resource::from_plan_json(&json).map_err(invalid)?;
            let id = host.declare(resource).map_err(refused)?;
            to_json(&id)
        })
    }
}

unsafe extern "C" fn export(ctx: *mut c_void, request: Str, reply: *const Sink) -> Status {
    // SAFETY: the plugin passes what the table's contract requires.
    unsafe {
        serve(ctx, request, reply, |host, text| {
            let request: ExportRequest = from_json(text)?;
            let value = Value::from_plan_json(&request.value).map_err(invalid)?;
            host.export(&request.name, value).map_err(refused)?;
            Ok("null".to_owned())
        })
    }
}

unsafe extern "C" fn resource(ctx: *mut c_void, request: Str, reply: *const Sink) -> Status {
    // SAFETY: the plugin passes what the table's contract requires.
    unsafe {
        serve(ctx, request, reply, |host, text| {
            let id: ResourceId = from_json(text)?;
            Ok(host
                .resource(&id)
                .map_or_else(|| "null".to_owned(), |r| r.to_json().to_string()))
        })
    }
}

unsafe extern "C" fn add_group_member(
    ctx: *mut c_void,
    request: Str,
    reply: *const Sink,
) -> Status {
    // SAFETY: the plugin passes what the table's contract requires.
    unsafe {
        serve(ctx, request, reply, |host, text| {
            let request: GroupMemberRequest = from_json(text)?;
            host.add_group_member(request).map_err(refused)?;
            Ok("null".to_owned())
        })
    }
}

unsafe extern "C" fn group(ctx: *mut c_void, request: Str, reply: *const Sink) -> Status {
    // SAFETY: the plugin passes what the table's contract requires.
    unsafe {
        serve(ctx, request, reply, |host, text| {
            let request: GroupRequest = from_json(text)?;
            let info = host.group(request.cloud, &request.name).map_err(refused)?;
            to_json(&GroupAnswer {
                resource: info.resource,
                resolved_members: info
                    .resolved_members
                    .map(|members| members.iter().map(Value::to_json).collect()),
            })
        })
    }
}
