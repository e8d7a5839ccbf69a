//! The plugin's side of a lifecycle call: a [`PluginHost`] that forwards each
//! request through the host's [`HostTable`].
#![allow(unsafe_code)]

use std::mem::offset_of;

use cpg_infra::config::{CloudName, CpgDatasetConfig, CpgInfrastructureConfig};
use cpg_infra::graph::{Resource, ResourceId, Value};
use cpg_infra::plugin::{
    GroupInfo, GroupMemberRequest, HostError, LogLevel, PluginContext, PluginError, PluginHost,
};
use serde_json::Value as Json;

use crate::abi::{Callback, HostTable, Status, Str, table_has};
use crate::ffi::Collector;
use crate::messages::{Configs, ExportRequest, GroupAnswer, GroupRequest};

/// The host, as a plugin library sees it during one lifecycle call.
pub(crate) struct RemoteHost<'a> {
    table: &'a HostTable,
    configs: Configs,
}

impl<'a> RemoteHost<'a> {
    /// Reads the configs from the host.
    pub(crate) fn connect(table: &'a HostTable) -> Result<Self, PluginError> {
        let text = call(table, offset_of!(HostTable, configs), "configs", "null")
            .map_err(|e| PluginError::Abi(e.to_string()))?;
        let configs: Configs = serde_json::from_str(&text)
            .map_err(|e| PluginError::Abi(format!("the host's configs: {e}")))?;
        Ok(RemoteHost { table, configs })
    }

    fn call(&self, offset: usize, what: &str, request: &str) -> Result<String, HostError> {
        call(self.table, offset, what, request)
    }
}

/// Calls the callback at `offset` of `table` with `request`; its answer, or its
/// refusal as [`HostError::Remote`].
fn call(table: &HostTable, offset: usize, what: &str, request: &str) -> Result<String, HostError> {
    if !table_has(table.size, offset) {
        return Err(HostError::Remote(format!(
            "the host does not offer {what} (its callback table is older)"
        )));
    }
    let callback: Callback = match offset {
        o if o == offset_of!(HostTable, configs) => table.configs,
        o if o == offset_of!(HostTable, declare) => table.declare,
        o if o == offset_of!(HostTable, export) => table.export,
        o if o == offset_of!(HostTable, resource) => table.resource,
        o if o == offset_of!(HostTable, add_group_member) => table.add_group_member,
        _ => table.group,
    };
    let mut collector = Collector::new();
    let sink = collector.sink();
    // SAFETY: the table came from the host for this lifecycle call, which is still
    // running; `request` and `sink` outlive the callback, which copies what it reads
    // (the ABI's rules); `table_has` checked the host's table reaches this callback.
    let status = unsafe { callback(table.ctx, Str::new(request), &sink) };
    let text = collector.into_text();
    match status {
        Status::OK => Ok(text),
        Status::PANIC => Err(HostError::Remote(format!("the host panicked: {text}"))),
        _ => Err(HostError::Remote(text)),
    }
}

fn remote(error: impl std::fmt::Display) -> HostError {
    HostError::Remote(error.to_string())
}

impl PluginHost for RemoteHost<'_> {
    fn infrastructure(&self) -> &CpgInfrastructureConfig {
        &self.configs.infrastructure
    }

    fn datasets(&self) -> &[CpgDatasetConfig] {
        &self.configs.datasets
    }

    fn context(&self) -> &PluginContext {
        &self.configs.context
    }

    fn declare(&mut self, resource: Resource) -> Result<ResourceId, HostError> {
        let text = self.call(
            offset_of!(HostTable, declare),
            "declare",
            &resource.to_json().to_string(),
        )?;
        serde_json::from_str(&text).map_err(remote)
    }

    fn export(&mut self, name: &str, value: Value) -> Result<(), HostError> {
        let request = serde_json::to_string(&ExportRequest {
            name: name.to_owned(),
            value: value.to_json(),
        })
        .map_err(remote)?;
        self.call(offset_of!(HostTable, export), "export", &request)
            .map(drop)
    }

    fn resource(&self, id: &ResourceId) -> Option<Resource> {
        let request = serde_json::to_string(id).ok()?;
        let text = self
            .call(offset_of!(HostTable, resource), "resource", &request)
            .ok()?;
        let json: Json = serde_json::from_str(&text).ok()?;
        Resource::from_plan_json(&json).ok()
    }

    fn add_group_member(&mut self, request: GroupMemberRequest) -> Result<(), HostError> {
        let request = serde_json::to_string(&request).map_err(remote)?;
        self.call(
            offset_of!(HostTable, add_group_member),
            "add_group_member",
            &request,
        )
        .map(drop)
    }

    fn group(&self, cloud: CloudName, name: &str) -> Result<GroupInfo, HostError> {
        let request = serde_json::to_string(&GroupRequest {
            cloud,
            name: name.to_owned(),
        })
        .map_err(remote)?;
        let text = self.call(offset_of!(HostTable, group), "group", &request)?;
        let answer: GroupAnswer = serde_json::from_str(&text).map_err(remote)?;
        let resolved_members = answer
            .resolved_members
            .map(|members| {
                members
                    .iter()
                    .map(Value::from_plan_json)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(remote)?;
        Ok(GroupInfo {
            resource: answer.resource,
            resolved_members,
        })
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        // SAFETY: the table and its `log` are valid during this lifecycle call;
        // `message` outlives the call and is copied by the host.
        let _ = unsafe { (self.table.log)(self.table.ctx, level.code(), Str::new(message)) };
    }
}
