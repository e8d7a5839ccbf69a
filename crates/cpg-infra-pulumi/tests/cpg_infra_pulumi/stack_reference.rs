//! Resources read by id rather than registered, and values that cross from one
//! stack to another through a `pulumi:pulumi:StackReference`: one stack is run,
//! its exports are handed to the mock, then a stack that references it is run.

use cpg_infra::graph::{Graph, Resource, ResourceId, ResourceOptions, Value};
use cpg_infra_mock_engine::{MockEngine, MockOptions, Recorded, computed_outputs};
use cpg_infra_pulumi::proto::ReadResourceRequest;
use cpg_infra_pulumi::{DeployError, STACK_REFERENCE_TYPE, wire};
use prost_types::Struct;

use super::support::{ROOT_URN, assert_registered_completely, deploy, input, sent};

const BUCKET: &str = "gcp:storage/bucket:Bucket";
const KEY: &str = "gcp:serviceaccount/key:Key";
const MEMBER: &str = "gcp:storage/bucketIAMMember:BucketIAMMember";
const SECRET_VERSION: &str = "gcp:secretmanager/secretVersion:SecretVersion";

/// The producing stack: a bucket whose name it exports in plain, and a key whose
/// private key it exports (a secret output of the key).
fn producer() -> Graph {
    let mut graph = Graph::new();
    let bucket = graph
        .declare(Resource::new(BUCKET, "data").input("name", "cpg-p-data"))
        .expect("bucket");
    let key = graph
        .declare(
            Resource::new(KEY, "sa-key")
                .input("serviceAccountId", "sa@p.iam")
                .options(ResourceOptions {
                    additional_secret_outputs: vec!["privateKey".into()],
                    ..ResourceOptions::default()
                }),
        )
        .expect("key");
    graph
        .export("data_bucket", Value::output(&bucket, "name"))
        .expect("export");
    graph
        .export("sa_key", Value::output(&key, "privateKey"))
        .expect("export");
    graph
}

/// The consuming stack, as a shard graph reads another shard: a stack reference
/// named by the referenced stack (read by that name), and resources whose inputs
/// use its `outputs.<export>`.
fn consumer(stack: &str) -> Graph {
    let mut graph = Graph::new();
    let reference = graph
        .declare(
            Resource::new(STACK_REFERENCE_TYPE, stack)
                .input("name", stack)
                .options(ResourceOptions {
                    id: Some(stack.to_owned()),
                    ..ResourceOptions::default()
                }),
        )
        .expect("stack reference");
    graph
        .declare(
            Resource::new(MEMBER, "reader")
                .input("bucket", Value::output(&reference, "outputs.data_bucket"))
                .input(
                    "condition",
                    Value::concat([
                        Value::from("gs://"),
                        Value::output(&reference, "outputs.data_bucket"),
                    ]),
                )
                .input("member", "group:readers@example.org"),
        )
        .expect("member");
    graph
        .declare(
            Resource::new(SECRET_VERSION, "key-copy")
                .input("secretData", Value::output(&reference, "outputs.sa_key")),
        )
        .expect("secret version");
    graph
}

fn options(stack: &str, dry_run: bool) -> MockOptions {
    MockOptions {
        stack: stack.into(),
        dry_run,
        ..MockOptions::default()
    }
}

/// Runs the producer in an update and returns what the mock recorded.
fn run_producer() -> (MockOptions, Recorded) {
    let graph = producer();
    let producing = options("p", false);
    let mock = MockEngine::start(MockOptions {
        outputs: Some(computed_outputs(&graph)),
        ..producing.clone()
    })
    .expect("mock listens");
    let deployed = deploy(&graph, &mock, 4).expect("producer deploys");
    assert_eq!((deployed.resources, deployed.reads), (2, 0));
    (producing, mock.recorded())
}

/// Runs the consumer against a mock that knows `stacks`.
fn run_consumer(
    stack: &str,
    dry_run: bool,
    stacks: Vec<(String, Struct)>,
) -> (Result<cpg_infra_pulumi::Deployed, DeployError>, Recorded) {
    let graph = consumer(stack);
    let mock = MockEngine::start(MockOptions {
        stacks: stacks.into_iter().collect(),
        ..options("test", dry_run)
    })
    .expect("mock listens");
    let result = deploy(&graph, &mock, 4);
    (result, mock.recorded())
}

fn json(value: &prost_types::Value) -> serde_json::Value {
    wire::to_json(value)
}

/// The output `property` the producer's mock answered for `name`.
fn produced(recorded: &Recorded, name: &str, property: &str) -> serde_json::Value {
    let (_, _, response) = recorded
        .responses
        .iter()
        .find(|(_, n, _)| n == name)
        .expect("answered");
    json(&response.object.as_ref().expect("outputs").fields[property])
}

#[test]
fn a_stack_references_exports_become_the_inputs_that_use_them() {
    let (producing, recorded_p) = run_producer();
    let stack = producing.stack_reference_name();
    assert_eq!(stack, "organization/cpg/p");
    let exports = recorded_p.stack_outputs().expect("the producer exported");
    assert_eq!(
        exports.fields.keys().collect::<Vec<_>>(),
        ["data_bucket", "sa_key"]
    );
    let (result, recorded) = run_consumer(&stack, false, vec![(stack.clone(), exports)]);
    let deployed = result.expect("consumer deploys");
    assert_eq!((deployed.resources, deployed.reads), (2, 1));
    assert_registered_completely(&consumer(&stack), &recorded, false);

    // Read, never registered.
    assert_eq!(recorded.reads.len(), 1);
    assert!(
        recorded
            .registrations
            .iter()
            .all(|r| r.r#type != STACK_REFERENCE_TYPE),
        "a read resource is not registered"
    );
    let bucket_name = produced(&recorded_p, "data", "name");
    assert_eq!(bucket_name, serde_json::json!("cpg-p-data"));
    let member = sent(&recorded, MEMBER, "reader");
    assert_eq!(json(input(member, "bucket")), bucket_name);
    assert_eq!(
        json(input(member, "condition")),
        serde_json::json!("gs://cpg-p-data")
    );
    let private_key = produced(&recorded_p, "sa-key", "privateKey");
    assert!(
        private_key.get("$secret").is_some(),
        "the producer's key is a secret: {private_key}"
    );
    let copy = sent(&recorded, SECRET_VERSION, "key-copy");
    assert_eq!(json(input(copy, "secretData")), private_key);
    // The stack reference is a dependency of what uses it, as any resource is.
    let reference_urn = "urn:pulumi:test::cpg::pulumi:pulumi:StackReference::organization/cpg/p";
    assert_eq!(recorded.read_responses[0].2.urn, reference_urn);
    assert_eq!(member.dependencies, [reference_urn]);
    assert_eq!(member.property_dependencies["bucket"].urns, [reference_urn]);
}

#[test]
fn a_stack_reference_is_read_as_the_python_sdk_reads_one() {
    let (producing, recorded_p) = run_producer();
    let stack = producing.stack_reference_name();
    let exports = recorded_p.stack_outputs().expect("exported");
    let (result, recorded) = run_consumer(&stack, false, vec![(stack.clone(), exports)]);
    result.expect("consumer deploys");
    let read = &recorded.reads[0];
    // `StackReference(name)` in Python: `opts.id` is the stack's name, the only
    // input sent is `name` (`outputs` and `secret_output_names` are None, which
    // the SDK leaves out, and the builtin provider refuses any other input); no
    // provider and no version, so the engine reads it with its builtin provider.
    let expected = ReadResourceRequest {
        id: stack.clone(),
        r#type: "pulumi:pulumi:StackReference".into(),
        name: stack.clone(),
        parent: ROOT_URN.into(),
        properties: Some(Struct {
            fields: [("name".to_owned(), wire::string(stack.clone()))]
                .into_iter()
                .collect(),
        }),
        dependencies: Vec::new(),
        provider: String::new(),
        version: String::new(),
        accept_secrets: true,
        additional_secret_outputs: Vec::new(),
        accept_resources: true,
        ..ReadResourceRequest::default()
    };
    assert_eq!(read, &expected);
    // The engine's answer: the stack's name, outputs and secret output names.
    let answer = recorded.read_responses[0]
        .2
        .properties
        .clone()
        .expect("properties");
    assert_eq!(
        json(&answer.fields["secretOutputNames"]),
        serde_json::json!(["sa_key"])
    );
    assert_eq!(json(&answer.fields["name"]), serde_json::json!(stack));
}

#[test]
fn a_preview_before_the_referenced_stack_ran_sends_its_exports_unknown() {
    // The referenced stack exists (created) but was never updated: no exports.
    let stack = options("p", false).stack_reference_name();
    let (result, recorded) = run_consumer(&stack, true, vec![(stack.clone(), Struct::default())]);
    let deployed = result.expect("the preview runs");
    assert_eq!((deployed.resources, deployed.reads), (2, 1));
    assert_registered_completely(&consumer(&stack), &recorded, true);
    let member = sent(&recorded, MEMBER, "reader");
    assert_eq!(json(input(member, "bucket")), serde_json::json!("$unknown"));
    assert_eq!(
        json(input(member, "condition")),
        serde_json::json!("$unknown")
    );
    let copy = sent(&recorded, SECRET_VERSION, "key-copy");
    assert!(wire::contains_unknown(input(copy, "secretData")));
}

#[test]
fn an_update_using_an_export_the_stack_lacks_names_the_stack_and_the_export() {
    let (producing, recorded_p) = run_producer();
    let stack = producing.stack_reference_name();
    let mut exports = recorded_p.stack_outputs().expect("exported");
    exports.fields.remove("data_bucket");
    let (result, recorded) = run_consumer(&stack, false, vec![(stack.clone(), exports)]);
    let error = result.expect_err("a missing export stops the update");
    assert!(
        matches!(&error, DeployError::MissingExport { missing, .. }
            if missing.export == "data_bucket" && missing.stack == "organization/cpg/p"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "gcp:storage/bucketIAMMember:BucketIAMMember::reader input \"bucket\" uses export \
         \"data_bucket\" of stack \"organization/cpg/p\" (stack reference \
         pulumi:pulumi:StackReference::organization/cpg/p), which that stack does not export"
    );
    assert!(
        recorded.registrations.iter().all(|r| r.name != "reader"),
        "the resource that uses it is not registered"
    );
    // The engine's log says so too.
    assert!(
        recorded
            .logs
            .iter()
            .any(|l| l.message.contains("does not export"))
    );
}

#[test]
fn a_stack_reference_to_a_stack_that_does_not_exist_is_refused() {
    let (result, recorded) = run_consumer("organization/cpg/nowhere", false, Vec::new());
    let error = result.expect_err("refused");
    assert_eq!(
        error.resource(),
        Some(&ResourceId::new(
            STACK_REFERENCE_TYPE,
            "organization/cpg/nowhere"
        ))
    );
    assert!(error.to_string().contains("unknown stack"), "{error}");
    assert_eq!(recorded.reads.len(), 1);
}

#[test]
fn any_resource_with_an_id_is_read_and_its_outputs_feed_its_users() {
    let mut graph = Graph::new();
    let existing = graph
        .declare(
            Resource::new(BUCKET, "existing")
                .input("name", "cpg-existing")
                .options(ResourceOptions {
                    id: Some("projects/p/buckets/cpg-existing".into()),
                    additional_secret_outputs: vec!["name".into()],
                    ..ResourceOptions::default()
                }),
        )
        .expect("read bucket");
    graph
        .declare(
            Resource::new(MEMBER, "reader")
                .input("bucket", Value::output(&existing, "id"))
                .input("bucketName", Value::output(&existing, "name")),
        )
        .expect("member");
    for dry_run in [false, true] {
        let mock = MockEngine::start(options("test", dry_run)).expect("mock listens");
        let deployed = deploy(&graph, &mock, 4).expect("deploys");
        assert_eq!((deployed.resources, deployed.reads), (1, 1));
        let recorded = mock.recorded();
        assert_registered_completely(&graph, &recorded, dry_run);
        let read = &recorded.reads[0];
        assert_eq!(read.id, "projects/p/buckets/cpg-existing");
        assert_eq!(read.version, "7.38.0", "the pinned provider reads it");
        assert_eq!(read.additional_secret_outputs, ["name"]);
        let member = sent(&recorded, MEMBER, "reader");
        // A read resource's id is known even in a preview.
        assert_eq!(
            json(input(member, "bucket")),
            serde_json::json!("projects/p/buckets/cpg-existing")
        );
        assert_eq!(
            json(input(member, "bucketName")),
            serde_json::json!({"$secret": "cpg-existing"})
        );
    }
}
