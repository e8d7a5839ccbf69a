#!/usr/bin/env python3
"""Writes the pinned Pulumi providers' schemas, as far as this project uses them.

For every token listed in uses.txt, reads the provider's published Python SDK (the
wheel on PyPI, read as a zip archive, never imported) and records:

- for a resource: its input properties by wire name (camelCase), which are
  required, and for object-typed inputs the input type they hold;
- for an invoke (data source): its arguments by wire name, which are required, and
  their object types the same way;
- every input type reached from those, with its properties in the same form;
- the output property names of each resource, and the result property names of
  each invoke.

Usage:
    python3 provider-schemas/extract.py                 # downloads the wheels with pip
    python3 provider-schemas/extract.py --wheels DIR    # uses wheels already in DIR

Writes provider-schemas/<provider>.json beside this script. Only the standard library
and `pip download` are used.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Provider section in uses.txt -> (PyPI distribution, version, Python package,
# token prefix, output file).
PROVIDERS = {
    "pulumi-gcp": ("pulumi_gcp", "7.38.0", "pulumi_gcp", "gcp", "pulumi-gcp.json"),
    "azure-native": (
        "pulumi_azure_native",
        "2.21.2",
        "pulumi_azure_native",
        "azure-native",
        "azure-native.json",
    ),
    "azuread": ("pulumi_azuread", "5.46.0", "pulumi_azuread", "azuread", "azuread.json"),
}

QUOTED_TYPE = re.compile(r"'(?:[\w.]+\.)?(\w+Args)'")


def read_uses(path: Path) -> dict[str, list[str]]:
    """The tokens of each provider section of uses.txt."""
    uses: dict[str, list[str]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section not in PROVIDERS:
                sys.exit(f"uses.txt: unknown provider section [{section}]")
            uses.setdefault(section, [])
            continue
        if section is None:
            sys.exit(f"uses.txt: token {line!r} before any [provider] section")
        uses[section].append(line)
    return uses


def module_dir(package: str, token: str) -> str:
    """The SDK folder whose modules declare `token`: `gcp:storage/bucket:Bucket` is
    in `pulumi_gcp/storage/`, `azure-native:storage:StorageAccount` in
    `pulumi_azure_native/storage/`, `azuread:index/group:Group` in `pulumi_azuread/`."""
    module = token.split(":")[1].split("/")[0]
    return f"{package}/" if module == "index" else f"{package}/{module}/"


def decorator_name(node: ast.expr) -> tuple[str, str | None]:
    """(`pulumi.getter`, wire name) for `@pulumi.getter(name="x")`; name None when
    the decorator gives none."""
    if isinstance(node, ast.Call):
        name = None
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                name = keyword.value.value
        return ast.unparse(node.func), name
    return ast.unparse(node), None


def shape(annotation: str) -> dict:
    """An input's object type from its annotation: `{"object": T}`, `{"list": T}` or
    `{"map": T}`, or nothing for plain values."""
    match = QUOTED_TYPE.search(annotation)
    if not match:
        return {}
    before = annotation[: match.start()]
    if "Sequence[" in before:
        return {"list": match.group(1)}
    if "Mapping[" in before:
        return {"map": match.group(1)}
    return {"object": match.group(1)}


def getter_names(cls: ast.ClassDef) -> list[str]:
    """The wire names of a class's `@pulumi.getter` properties, sorted."""
    names = []
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            func, name = decorator_name(decorator)
            if func == "pulumi.getter":
                names.append(name or node.name)
    return sorted(set(names))


def input_class(cls: ast.ClassDef) -> dict[str, dict]:
    """The properties of an `@pulumi.input_type` class: wire name -> spec."""
    init = next(
        (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
        None,
    )
    if init is None:
        return {}
    wire = {}
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            func, name = decorator_name(decorator)
            if func == "pulumi.getter":
                wire[node.name] = name or node.name
    properties = {}
    args = init.args
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        spec = {}
        if default is None:
            spec["required"] = True
        if arg.annotation is not None:
            spec.update(shape(ast.unparse(arg.annotation)))
        properties[wire.get(arg.arg, arg.arg)] = spec
    return properties


def is_input_type(cls: ast.ClassDef) -> bool:
    return any(decorator_name(d)[0] == "pulumi.input_type" for d in cls.decorator_list)


def args_class(cls: ast.ClassDef) -> str | None:
    """The input class a resource's constructor fills: `X` in
    `__props__ = X.__new__(X)` (`BucketArgs`, or `DatasetAccessInitArgs` where the
    plain name is taken)."""
    for node in ast.walk(cls):
        if (
            isinstance(node, ast.Assign)
            and ast.unparse(node.targets[0]) == "__props__"
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "__new__"
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id.endswith("Args")
        ):
            return node.value.func.value.id
    return None


class Folder:
    """The parsed modules of one SDK folder."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str):
        self.modules: dict[str, ast.Module] = {}
        for name in archive.namelist():
            rest = name[len(prefix) :] if name.startswith(prefix) else None
            if rest and rest.endswith(".py") and "/" not in rest:
                self.modules[rest] = ast.parse(archive.read(name).decode("utf-8"))
        self.input_types: dict[str, ast.ClassDef] = {}
        for module in self.modules.values():
            for node in module.body:
                if isinstance(node, ast.ClassDef) and is_input_type(node):
                    self.input_types.setdefault(node.name, node)

    def find_resource(self, token: str) -> tuple[dict, list[str]] | None:
        """A resource's inputs, and the names of its outputs."""
        for module in self.modules.values():
            classes = {n.name: n for n in module.body if isinstance(n, ast.ClassDef)}
            for cls in classes.values():
                if not any(ast.unparse(b) == "pulumi.CustomResource" for b in cls.bases):
                    continue
                for call in ast.walk(cls):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "__init__"
                        and isinstance(call.func.value, ast.Call)
                        and ast.unparse(call.func.value.func) == "super"
                        and call.args
                        and isinstance(call.args[0], ast.Constant)
                        and call.args[0].value == token
                    ):
                        args = classes.get(args_class(cls) or f"{cls.name}Args")
                        if args is None:
                            sys.exit(f"{token}: no input class beside {cls.name}")
                        return input_class(args), getter_names(cls)
        return None

    def find_invoke(self, token: str) -> tuple[dict, list[str]] | None:
        """An invoke's arguments, and the names of its result's properties."""
        for module in self.modules.values():
            functions = {n.name: n for n in module.body if isinstance(n, ast.FunctionDef)}
            for function in functions.values():
                calls = [
                    c
                    for c in ast.walk(function)
                    if isinstance(c, ast.Call)
                    and ast.unparse(c.func) == "pulumi.runtime.invoke"
                    and c.args
                    and isinstance(c.args[0], ast.Constant)
                    and c.args[0].value == token
                ]
                if not calls:
                    continue
                result = None
                for keyword in calls[0].keywords:
                    if keyword.arg == "typ" and isinstance(keyword.value, ast.Name):
                        result = keyword.value.id
                classes = {n.name: n for n in module.body if isinstance(n, ast.ClassDef)}
                if result not in classes:
                    sys.exit(f"{token}: no result class {result} beside {function.name}")
                outputs = getter_names(classes[result])
                # `__args__['wire'] = python_name`
                wire = {}
                for node in ast.walk(function):
                    if (
                        isinstance(node, ast.Assign)
                        and isinstance(node.targets[0], ast.Subscript)
                        and ast.unparse(node.targets[0].value) == "__args__"
                        and isinstance(node.value, ast.Name)
                    ):
                        key = node.targets[0].slice
                        if isinstance(key, ast.Constant):
                            wire[node.value.id] = key.value
                # The `_output` form types required arguments `Optional[pulumi.Input[T]]`
                # and optional ones `Optional[pulumi.Input[Optional[T]]]`.
                lifted = functions.get(f"{function.name}_output", function)
                arguments = {}
                for arg in lifted.args.args:
                    if arg.arg == "opts" or arg.arg not in wire:
                        continue
                    annotation = ast.unparse(arg.annotation) if arg.annotation else ""
                    spec = {}
                    if lifted is not function and "pulumi.Input[Optional[" not in annotation:
                        spec["required"] = True
                    spec.update(shape(annotation))
                    arguments[wire[arg.arg]] = spec
                return arguments, outputs
        return None


def collect_types(folder: Folder, module: str, specs: dict, types: dict) -> None:
    """Adds every input type reached from `specs` to `types`, keyed `module:Class`,
    and rewrites the references in `specs` to those keys."""
    for spec in specs.values():
        for kind in ("object", "list", "map"):
            name = spec.get(kind)
            if name is None:
                continue
            key = f"{module}:{name}"
            spec[kind] = key
            if key in types:
                continue
            cls = folder.input_types.get(name)
            if cls is None:
                # A type from another folder: recorded as an object of unknown shape.
                spec[kind] = None
                continue
            types[key] = input_class(cls)
            collect_types(folder, module, types[key], types)


def extract(section: str, tokens: list[str], wheels: Path) -> dict:
    distribution, version, package, prefix, _ = PROVIDERS[section]
    wheel = next(wheels.glob(f"{distribution}-{version}-*.whl"), None)
    if wheel is None:
        sys.exit(f"no {distribution}-{version} wheel in {wheels}")
    resources: dict = {}
    invokes: dict = {}
    types: dict = {}
    outputs: dict = {}
    folders: dict[str, Folder] = {}
    with zipfile.ZipFile(wheel) as archive:
        for token in tokens:
            if not token.startswith(f"{prefix}:"):
                sys.exit(f"{token}: not a {prefix} token")
            directory = module_dir(package, token)
            folder = folders.get(directory) or folders.setdefault(
                directory, Folder(archive, directory)
            )
            module = token.split(":")[1].split("/")[0]
            found = folder.find_resource(token)
            target = resources
            if found is None:
                found = folder.find_invoke(token)
                target = invokes
            if found is None:
                sys.exit(f"{token}: not declared by {distribution} {version} (in {directory})")
            inputs, names = found
            collect_types(folder, module, inputs, types)
            target[token] = inputs
            outputs[token] = names
    return {
        "provider": section,
        "package": distribution,
        "version": version,
        "resources": resources,
        "invokes": invokes,
        "types": types,
        "outputs": outputs,
    }


def write(schema: dict, path: Path) -> None:
    """One entry per line, keys sorted: small diffs when the schema changes."""
    lines = ["{"]
    head = {k: schema[k] for k in ("provider", "package", "version")}
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    groups = ["resources", "invokes", "types", "outputs"]
    for g, group in enumerate(groups):
        lines.append(f"  {json.dumps(group)}: {{")
        entries = sorted(schema[group].items())
        for i, (name, properties) in enumerate(entries):
            comma = "," if i + 1 < len(entries) else ""
            body = json.dumps(properties, sort_keys=True, separators=(",", ":"))
            lines.append(f"    {json.dumps(name)}: {body}{comma}")
        lines.append("  }" + ("," if g + 1 < len(groups) else ""))
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, help="a folder holding the wheels")
    args = parser.parse_args()
    uses = read_uses(HERE / "uses.txt")
    with tempfile.TemporaryDirectory() as temporary:
        wheels = args.wheels or Path(temporary)
        if args.wheels is None:
            pins = [f"{PROVIDERS[s][0]}=={PROVIDERS[s][1]}" for s in uses]
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels), *pins],
                check=True,
            )
        for section, tokens in uses.items():
            schema = extract(section, tokens, wheels)
            out = HERE / PROVIDERS[section][4]
            write(schema, out)
            print(
                f"{out.name}: {len(schema['resources'])} resources, "
                f"{len(schema['invokes'])} invokes, {len(schema['types'])} input types"
            )


if __name__ == "__main__":
    main()
