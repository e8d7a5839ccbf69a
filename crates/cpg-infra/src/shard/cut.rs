//! Where the graph is cut: each resource's shard, what crosses a cut, the waves.

use std::collections::{BTreeMap, BTreeSet};

use crate::driver::{Origin, Origins};
use crate::graph::{Graph, OutputRef, ResourceId, Value};

use super::{CycleStep, Shard, ShardError, ShardIndex, ShardPlan, stack_name};

/// The stack export under which a shard publishes `output` for other shards:
/// `<type token>::<logical name>::<property>` with every `%` written `%25` and
/// every `.` written `%2E`, so the name has no `.` (a property path is dotted) and
/// two outputs never share a name.
///
/// ```
/// use cpg_infra::graph::{OutputRef, ResourceId};
/// let output = OutputRef {
///     resource: ResourceId::new("gcp:serviceaccount/account:Account", "ds-gcp-hail"),
///     property: "email".into(),
/// };
/// assert_eq!(
///     cpg_infra::shard::export_name(&output),
///     "gcp:serviceaccount/account:Account::ds-gcp-hail::email"
/// );
/// ```
pub fn export_name(output: &OutputRef) -> String {
    let escape = |text: &str| text.replace('%', "%25").replace('.', "%2E");
    format!(
        "{}::{}::{}",
        escape(&output.resource.type_token),
        escape(&output.resource.name),
        escape(&output.property)
    )
}

/// A resource or a stack export of the graph, as a user of other resources.
#[derive(Clone, Copy)]
enum User<'g> {
    Resource(&'g ResourceId),
    Export(&'g str),
}

impl User<'_> {
    fn label(&self) -> String {
        match self {
            User::Resource(id) => id.to_string(),
            User::Export(name) => format!("export {name:?}"),
        }
    }
}

impl ShardPlan {
    /// Cuts `graph` into shards by the `origins` its build recorded: a resource
    /// goes to the shard of its origin, except that an organisation resource (or
    /// export) using what a dataset or the after-datasets shard declares moves to
    /// the after-datasets shard, and so on transitively. A cycle between shards is
    /// an error naming the resources that make it.
    pub fn new(graph: &Graph, origins: &Origins) -> Result<Self, ShardError> {
        let resources = graph.resources();
        let mut keys: Vec<Origin> = resources
            .iter()
            .map(|r| {
                origins
                    .resource(&r.id)
                    .cloned()
                    .ok_or_else(|| ShardError::NoOrigin(r.id.to_string()))
            })
            .collect::<Result<_, _>>()?;
        // What each resource uses: outputs, dependsOn, parent and provider.
        let uses: Vec<Vec<usize>> = resources
            .iter()
            .map(|r| {
                let mut used: Vec<usize> = r
                    .inputs
                    .values()
                    .flat_map(Value::dependencies)
                    .chain(r.options.depends_on.iter().cloned())
                    .chain(r.options.parent.iter().cloned())
                    .chain(r.options.provider.iter().cloned())
                    .filter_map(|id| graph.position(&id))
                    .collect();
                used.sort_unstable();
                used.dedup();
                used
            })
            .collect();
        let mut used_by: Vec<Vec<usize>> = vec![Vec::new(); resources.len()];
        for (user, used) in uses.iter().enumerate() {
            for &u in used {
                used_by[u].push(user);
            }
        }
        // Organisation resources that use anything outside the organisation shard
        // come after the datasets, and so do their users in turn.
        let mut queue: Vec<usize> = (0..resources.len())
            .filter(|&i| keys[i] != Origin::Organisation)
            .collect();
        while let Some(next) = queue.pop() {
            for &user in &used_by[next] {
                if keys[user] == Origin::Organisation {
                    keys[user] = Origin::AfterDatasets;
                    queue.push(user);
                }
            }
        }
        let mut export_keys: BTreeMap<&str, Origin> = BTreeMap::new();
        for (name, value) in graph.exports() {
            let mut key = origins
                .export(name)
                .cloned()
                .ok_or_else(|| ShardError::NoOrigin(format!("stack export {name:?}")))?;
            let outside = value
                .dependencies()
                .iter()
                .filter_map(|id| graph.position(id))
                .any(|i| keys[i] != Origin::Organisation);
            if key == Origin::Organisation && outside {
                key = Origin::AfterDatasets;
            }
            export_keys.insert(name, key);
        }

        // The shards, in order: organisation, datasets as built, after-datasets.
        let mut order: Vec<Origin> = vec![Origin::Organisation];
        let mut seen: BTreeSet<&Origin> = BTreeSet::new();
        for key in keys.iter().chain(export_keys.values()) {
            if matches!(key, Origin::Dataset(_)) && seen.insert(key) {
                order.push(key.clone());
            }
        }
        order.push(Origin::AfterDatasets);
        order.retain(|key| keys.contains(key) || export_keys.values().any(|k| k == key));
        let index_of: BTreeMap<&Origin, ShardIndex> =
            order.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let mut shards: Vec<Shard> = order
            .iter()
            .map(|key| Shard {
                key: key.clone(),
                stack: stack_name(key),
                resources: Vec::new(),
                exports: Vec::new(),
                reads: BTreeMap::new(),
                after: Vec::new(),
            })
            .collect();
        let shard_of: Vec<ShardIndex> = keys.iter().map(|k| index_of[k]).collect();
        for (i, resource) in resources.iter().enumerate() {
            shards[shard_of[i]].resources.push(resource.id.clone());
        }
        let mut of_export = BTreeMap::new();
        for (name, key) in &export_keys {
            shards[index_of[key]].exports.push((*name).to_owned());
            of_export.insert((*name).to_owned(), index_of[key]);
        }

        // What crosses a cut, with one example per pair of shards for a cycle.
        let mut example: BTreeMap<(ShardIndex, ShardIndex), (String, ResourceId)> = BTreeMap::new();
        let mut crossing: Vec<(ShardIndex, User<'_>, OutputRef, ShardIndex)> = Vec::new();
        let mut ordered: BTreeSet<(ShardIndex, ShardIndex)> = BTreeSet::new();
        let mut misplaced = Vec::new();
        for (i, resource) in resources.iter().enumerate() {
            let from = shard_of[i];
            let user = User::Resource(&resource.id);
            for value in resource.inputs.values() {
                collect_reads(value, from, user, graph, &shard_of, &mut crossing);
            }
            for id in &resource.options.depends_on {
                if let Some(&to) = graph.position(id).map(|p| &shard_of[p])
                    && to != from
                {
                    ordered.insert((from, to));
                    example
                        .entry((from, to))
                        .or_insert_with(|| (user.label(), id.clone()));
                }
            }
            let options = [
                ("parent", &resource.options.parent),
                ("provider", &resource.options.provider),
            ];
            for (option, target) in options {
                if let Some(id) = target
                    && let Some(&to) = graph.position(id).map(|p| &shard_of[p])
                    && to != from
                {
                    misplaced.push(ShardError::OptionAcrossShards {
                        consumer: resource.id.clone(),
                        option,
                        resource: id.clone(),
                        stack: shards[to].stack.clone(),
                    });
                }
            }
        }
        for (name, value) in graph.exports() {
            let from = of_export[name.as_str()];
            let user = User::Export(name);
            collect_reads(value, from, user, graph, &shard_of, &mut crossing);
        }
        for (from, user, output, to) in crossing {
            example
                .entry((from, to))
                .or_insert_with(|| (user.label(), output.resource.clone()));
            if output.property.is_empty() {
                misplaced.push(ShardError::WholeResourceAcrossShards {
                    consumer: user.label(),
                    resource: output.resource.clone(),
                    stack: shards[to].stack.clone(),
                });
                continue;
            }
            shards[from]
                .reads
                .entry(to)
                .or_default()
                .insert(export_name(&output), output);
        }
        for (from, to) in ordered {
            if !shards[from].reads.contains_key(&to) {
                shards[from].after.push(to);
            }
        }

        let waves = waves(&shards, &example)?;
        if let Some(first) = misplaced.into_iter().next() {
            return Err(first);
        }
        let of_resource = resources
            .iter()
            .zip(&shard_of)
            .map(|(r, s)| (r.id.clone(), *s))
            .collect();
        Ok(ShardPlan {
            shards,
            of_resource,
            of_export,
            waves,
        })
    }
}

/// Every output of another shard that `value` (used by `user` in shard `from`)
/// reads.
fn collect_reads<'g>(
    value: &Value,
    from: ShardIndex,
    user: User<'g>,
    graph: &Graph,
    shard_of: &[ShardIndex],
    crossing: &mut Vec<(ShardIndex, User<'g>, OutputRef, ShardIndex)>,
) {
    for inner in value.walk() {
        if let Value::Output(output) = inner
            && let Some(&to) = graph.position(&output.resource).map(|p| &shard_of[p])
            && to != from
        {
            crossing.push((from, user, output.clone(), to));
        }
    }
}

/// The shards in waves (topological levels of what each needs); a cycle is an
/// error naming, for each step, a resource and the resource it uses.
fn waves(
    shards: &[Shard],
    example: &BTreeMap<(ShardIndex, ShardIndex), (String, ResourceId)>,
) -> Result<Vec<Vec<ShardIndex>>, ShardError> {
    let needs: Vec<Vec<ShardIndex>> = shards.iter().map(Shard::needs).collect();
    let mut level: Vec<Option<usize>> = vec![None; shards.len()];
    let mut waves: Vec<Vec<ShardIndex>> = Vec::new();
    loop {
        let ready: Vec<ShardIndex> = (0..shards.len())
            .filter(|&s| level[s].is_none())
            .filter(|&s| {
                needs[s]
                    .iter()
                    .all(|&n| level[n].is_some_and(|l| l < waves.len()))
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        for &s in &ready {
            level[s] = Some(waves.len());
        }
        waves.push(ready);
    }
    let Some(start) = (0..shards.len()).find(|&s| level[s].is_none()) else {
        return Ok(waves);
    };
    // Walk unplaced shards until one repeats: that loop is a cycle.
    let mut path = vec![start];
    loop {
        let last = *path.last().unwrap_or(&start);
        let Some(next) = needs[last].iter().copied().find(|&n| level[n].is_none()) else {
            // Every unplaced shard needs an unplaced one, so this is not reached.
            return Ok(waves);
        };
        if let Some(at) = path.iter().position(|&s| s == next) {
            let mut cycle_shards = path[at..].to_vec();
            cycle_shards.push(next);
            let cycle = cycle_shards
                .windows(2)
                .map(|pair| {
                    let (consumer, producer) = example
                        .get(&(pair[0], pair[1]))
                        .cloned()
                        .unwrap_or_else(|| (String::new(), ResourceId::new("", "")));
                    CycleStep {
                        from: shards[pair[0]].stack.clone(),
                        consumer,
                        to: shards[pair[1]].stack.clone(),
                        producer,
                    }
                })
                .collect();
            return Err(ShardError::Cycle { cycle });
        }
        path.push(next);
    }
}
