#!/usr/bin/env python3
"""Writes replacements.json: for every resource token in uses.txt (and every `cpg:`
kind), the inputs whose change makes the provider replace the resource rather than
update it in place.

Where each provider keeps that fact:

- pulumi-gcp and pulumi-azuread bridge Terraform providers; the bridge replaces a
  resource when an input the Terraform schema marks `ForceNew: true` changes. The
  published SDK only sometimes says so in a description ("Changing this forces a new
  resource to be created"), so the Terraform provider's source at the bridged version
  is read: the schema literal of the resource (or, for `…_iam_member`, the parent
  schema plus the IAM member schema), top-level keys with `ForceNew: true`. Inputs
  whose SDK description says a change forces a new resource are added too.
- pulumi-azure-native replaces a resource when a property its schema marks
  `willReplaceOnChanges` changes: the path parameters of the resource's Azure id
  (the arguments of the SDK's `get_<resource>` function, read from the wheel) and
  `location` (create-only for every tracked Azure resource).
- `cpg:` kinds: the properties this project's provider schema
  (crates/pulumi-resource-cpg/schema.json) marks `replaceOnChanges`, which is what its
  Diff reports as replaces.

Usage:
    python3 provider-schemas/replacements.py --wheels DIR \\
        --terraform-google DIR --terraform-azuread DIR

DIR for the wheels as for extract.py; the Terraform directories are source trees of
hashicorp/terraform-provider-google at v5.42.0 and hashicorp/terraform-provider-azuread
at v2.47.0 (`git clone --depth 1 --branch v5.42.0 …`). Only the standard library is
used; the output is deterministic.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import zipfile
from pathlib import Path

from extract import HERE, PROVIDERS, module_dir, read_uses

TERRAFORM = {
    "pulumi-gcp": ("terraform-provider-google", "v5.42.0", "google_"),
    "azuread": ("terraform-provider-azuread", "v2.47.0", "azuread_"),
}

# pulumi-gcp's token -> Terraform resource name where the name is not
# `google_<module>_<snake resource>` (pulumi-gcp's provider/resources.go mapping).
TERRAFORM_NAMES = {
    "gcp:artifactregistry/repository:Repository": "google_artifact_registry_repository",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": "google_artifact_registry_repository_iam_member",
    "gcp:cloudfunctionsv2/function:Function": "google_cloudfunctions2_function",
    "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember": "google_cloudfunctions2_function_iam_member",
    "gcp:cloudidentity/group:Group": "google_cloud_identity_group",
    "gcp:cloudrun/iamMember:IamMember": "google_cloud_run_service_iam_member",
    "gcp:cloudscheduler/job:Job": "google_cloud_scheduler_job",
    "gcp:organizations/project:Project": "google_project",
    "gcp:privilegedaccessmanager/entitlement:entitlement": "google_privileged_access_manager_entitlement",
    "gcp:projects/iAMMember:IAMMember": "google_project_iam_member",
    "gcp:projects/service:Service": "google_project_service",
    "gcp:pubsub/subscriptionIAMPolicy:SubscriptionIAMPolicy": "google_pubsub_subscription_iam_policy",
    "gcp:pubsub/topicIAMPolicy:TopicIAMPolicy": "google_pubsub_topic_iam_policy",
    "gcp:secretmanager/secret:Secret": "google_secret_manager_secret",
    "gcp:secretmanager/secretIamMember:SecretIamMember": "google_secret_manager_secret_iam_member",
    "gcp:secretmanager/secretVersion:SecretVersion": "google_secret_manager_secret_version",
    "gcp:serviceaccount/account:Account": "google_service_account",
    "gcp:serviceaccount/iAMMember:IAMMember": "google_service_account_iam_member",
    "gcp:serviceaccount/key:Key": "google_service_account_key",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "google_storage_bucket_iam_member",
}

FORCES_NEW = re.compile(r"[Cc]hanging this forces a new|forces? a new resource")
SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return SNAKE.sub("_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def terraform_name(section: str, token: str) -> str:
    if token in TERRAFORM_NAMES:
        return TERRAFORM_NAMES[token]
    module, resource = token.split(":")[1].split("/")
    prefix = TERRAFORM[section][2]
    if module == "index":
        return prefix + snake(resource)
    return f"{prefix}{module}_{snake(resource)}"


def braced(text: str, start: int) -> str:
    """The text of the `{…}` literal whose opening brace is at or after `start`."""
    open_at = text.index("{", start)
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : i]
    sys.exit(f"unbalanced braces after offset {start}")


def force_new_keys(schema_body: str) -> set[str]:
    """Top-level keys of a `map[string]*schema.Schema{…}` body with `ForceNew: true`."""
    keys = set()
    for match in re.finditer(r'^\s*"(\w+)":\s*\{', schema_body, re.M):
        before = schema_body[: match.start()]
        if before.count("{") != before.count("}"):
            continue  # a key of a nested block's schema
        entry = braced(schema_body, match.end() - 1)
        # Only the entry's own fields: nested blocks' fields are indented deeper.
        own = re.sub(r"\{[^{}]*\}", "", entry)
        while re.search(r"\{[^{}]*\}", own):
            own = re.sub(r"\{[^{}]*\}", "", own)
        if re.search(r"\bForceNew:\s*true", own):
            keys.add(match.group(1))
    return keys


class TerraformSource:
    """The Go source of one Terraform provider."""

    def __init__(self, root: Path):
        self.files = {p: p.read_text() for p in root.rglob("*.go") if not p.name.endswith("_test.go")}

    def registration(self, name: str) -> str:
        for text in self.files.values():
            for match in re.finditer(rf'"{name}":\s*([^\n]+?),?\n', text):
                value = match.group(1)
                if "DataSource" not in value and "dataSource" not in value:
                    return value
        sys.exit(f"{name}: not registered by the Terraform provider source")

    def definition(self, pattern: str) -> str:
        for text in self.files.values():
            match = re.search(pattern, text, re.M)
            if match:
                return braced(text, match.end() - 1)
        sys.exit(f"no Go definition matches {pattern!r}")

    def schema_of(self, function: str, name: str) -> set[str]:
        body = self.definition(rf"^func {re.escape(function)}\(\)[^{{]*\{{")
        start = re.search(r"Schema:\s*map\[string\]\*(?:schema|pluginsdk)\.Schema\{", body)
        if start is None:
            sys.exit(f"{name}: no schema literal in {function}")
        return force_new_keys(braced(body, start.start()))

    def map_var(self, name: str) -> set[str]:
        return force_new_keys(self.definition(rf"^(?:var\s+|\s*){re.escape(name)}\s*=\s*map\[string\]\*schema\.Schema\{{"))

    def force_new(self, name: str) -> set[str]:
        value = self.registration(name)
        iam = re.match(r"tpgiamresource\.ResourceIam(Member|Policy)\((?:\w+\.)?(\w+),", value)
        if iam:
            keys = self.map_var(iam.group(2))
            base = "IamMemberBaseSchema" if iam.group(1) == "Member" else "IamPolicyBaseSchema"
            return keys | self.map_var(base)
        call = re.match(r"(?:\w+\.)?(\w+)\(\)$", value.strip())
        if not call:
            sys.exit(f"{name}: cannot read the registration {value!r}")
        return self.schema_of(call.group(1), name)


def sdk_described(archive: zipfile.ZipFile, package: str, token: str) -> set[str]:
    """Inputs whose SDK description says a change forces a new resource."""
    keys = set()
    directory = module_dir(package, token)
    for name in archive.namelist():
        rest = name[len(directory) :] if name.startswith(directory) else None
        if not rest or "/" in rest or not rest.endswith(".py"):
            continue
        text = archive.read(name).decode("utf-8")
        if f'"{token}"' not in text:
            continue
        for cls in ast.parse(text).body:
            if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("Args")):
                continue
            for node in cls.body:
                if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                    doc = ast.get_docstring(node) or ""
                    for param in re.split(r"\n(?=:param)", doc):
                        found = re.match(r":param [^:]*? (\w+):", param)
                        if found and FORCES_NEW.search(param.replace("\n", " ")):
                            keys.add(camel(found.group(1)))
    return keys


def azure_native(archive: zipfile.ZipFile, package: str, token: str, inputs: dict) -> set[str]:
    """The path parameters of the resource's Azure id, and `location`."""
    resource = token.split(":")[2]
    module = module_dir(package, token)
    path = f"{module}get_{snake(resource)}.py"
    tree = ast.parse(archive.read(path).decode("utf-8"))
    function = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == f"get_{snake(resource)}"
    )
    keys = {camel(a.arg) for a in function.args.args if a.arg != "opts"}
    keys = {k for k in keys if k in inputs}
    if "location" in inputs:
        keys.add("location")
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, required=True)
    parser.add_argument("--terraform-google", type=Path, required=True)
    parser.add_argument("--terraform-azuread", type=Path, required=True)
    args = parser.parse_args()
    uses = read_uses(HERE / "uses.txt")
    sources = {
        "pulumi-gcp": TerraformSource(args.terraform_google),
        "azuread": TerraformSource(args.terraform_azuread),
    }
    resources: dict[str, dict] = {}
    provenance: dict[str, str] = {}
    for section, tokens in uses.items():
        distribution, version, package, _, schema_file = PROVIDERS[section]
        schema = json.loads((HERE / schema_file).read_text())
        wheel = next(args.wheels.glob(f"{distribution}-{version}-*.whl"), None)
        if wheel is None:
            sys.exit(f"no {distribution}-{version} wheel in {args.wheels}")
        with zipfile.ZipFile(wheel) as archive:
            for token in tokens:
                if token not in schema["resources"]:
                    continue
                inputs = schema["resources"][token]
                if section == "azure-native":
                    keys = azure_native(archive, package, token, inputs)
                    source = "path parameters of the get function, and location"
                else:
                    name = terraform_name(section, token)
                    forced = {camel(k) for k in sources[section].force_new(name)}
                    keys = (forced | sdk_described(archive, package, token)) & set(inputs)
                    source = name
                resources[token] = {"replace": sorted(keys), "source": source}
        if section in TERRAFORM:
            repo, tag, _ = TERRAFORM[section]
            provenance[section] = (
                f"{distribution} {version} bridging hashicorp/{repo} {tag}: "
                "inputs whose Terraform schema is ForceNew, or whose SDK description "
                "says a change forces a new resource"
            )
        else:
            provenance[section] = (
                f"{distribution} {version}: the properties its schema marks "
                "willReplaceOnChanges (the resource id's path parameters, and location)"
            )
    cpg = json.loads((HERE.parent / "crates/pulumi-resource-cpg/schema.json").read_text())
    for token, spec in cpg["resources"].items():
        keys = [k for k, v in spec.get("inputProperties", {}).items() if v.get("replaceOnChanges")]
        resources[token] = {"replace": sorted(keys), "source": "replaceOnChanges"}
    provenance["cpg"] = "crates/pulumi-resource-cpg/schema.json: properties marked replaceOnChanges"
    write(provenance, resources, HERE / "replacements.json")
    print(f"replacements.json: {len(resources)} resources")


def write(provenance: dict, resources: dict, path: Path) -> None:
    """One resource per line, keys sorted: small diffs when a fact changes."""
    lines = ["{", '  "sources": {']
    entries = sorted(provenance.items())
    for i, (name, text) in enumerate(entries):
        comma = "," if i + 1 < len(entries) else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(text)}{comma}")
    lines.append("  },")
    lines.append('  "resources": {')
    entries = sorted(resources.items())
    for i, (token, fact) in enumerate(entries):
        comma = "," if i + 1 < len(entries) else ""
        body = json.dumps(fact, sort_keys=True, separators=(",", ":"))
        lines.append(f"    {json.dumps(token)}: {body}{comma}")
    lines.append("  }")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
