"""volatility3 plugin: dumpguard's detectors over the memory layer volatility3 built.

Run it with volatility3's own command line (the plugin directory is printed by
``dumpguard volatility-plugin-dir``)::

    vol -f memory.lime -p "$(dumpguard volatility-plugin-dir)" dumpguard \\
        [--known-keys jwks.json ...]

It scans the primary layer (the physical layer for an image without OS
symbols, so no symbol download is needed) in the same chunks, with the same
YARA rules, parsers, proofs and known-key matching as `dumpguard scan`, and
prints one row per finding: the layer address, severity, what was found and
its fingerprint.  Known-key raw-number recovery (RSA factors, EC scalars,
seeds) follows pointers through a dump's own address map and so runs in
`dumpguard scan` only, which reads LiME, AVML, crash dumps and vmcores itself.
Rows hold fingerprints, never key material.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from volatility3.framework import interfaces, renderers
from volatility3.framework.configuration import requirements
from volatility3.framework.renderers import format_hints

from scanner.config import ScanConfig
from scanner.detectors.base import Candidate, Window
from scanner.detectors.scan import Span, plan_chunks
from scanner.findings import Finding, build_findings
from scanner.formats.base import Region
from scanner.pipeline import Pipeline
from scanner.reporters.base import finding_sentence, key_name

READ_CHUNK = 16 * 1024 * 1024


class DumpGuard(interfaces.plugins.PluginInterface):  # type: ignore[misc]  # untyped base
    """Finds and proves private keys in memory with dumpguard's detectors."""

    _required_framework_version = (2, 0, 0)
    _version = (1, 0, 0)

    @classmethod
    def get_requirements(cls) -> list[Any]:
        return [
            requirements.TranslationLayerRequirement(
                name="primary", description="Memory layer to scan"
            ),
            requirements.ListRequirement(
                name="known_keys",
                element_type=str,
                description="Files or directories of public keys to match (JWKS, PEM, SSH...)",
                default=[],
                optional=True,
            ),
        ]

    def run(self) -> Any:
        columns = [
            ("Address", format_hints.Hex),
            ("Severity", str),
            ("Kind", str),
            ("Key", str),
            ("Detector", str),
            ("Encoding", str),
            ("Fingerprint", str),
            ("Known key", str),
            ("Finding", str),
        ]
        return renderers.TreeGrid(columns, self._generator())

    def _generator(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        layer = self.context.layers[self.config["primary"]]
        known_keys = tuple(Path(p) for p in self.config.get("known_keys") or ())
        findings = scan_layer(layer, ScanConfig(paths=(), known_keys=known_keys))
        for finding in sorted(findings, key=lambda f: (-f.severity.rank, f.offset)):
            yield (
                0,
                (
                    format_hints.Hex(finding.offset),
                    finding.severity.value,
                    finding.kind.value,
                    key_name(finding),
                    finding.detector,
                    finding.encoding,
                    finding.fingerprint or "-",
                    finding.known_key.id if finding.known_key else "-",
                    finding_sentence(finding),
                ),
            )


def scan_layer(layer: Any, config: ScanConfig) -> list[Finding]:
    """Every finding in the mapped ranges of a volatility3 layer (addresses are the layer's)."""
    pipeline = Pipeline(config)
    scanner = pipeline.chunks
    label = f"{layer.name} layer"
    regions = [Region(start, size, address=start, name=label) for start, size in mapped_runs(layer)]
    candidates: list[Candidate] = []
    for region in regions:
        for plan in plan_chunks(Span(region.file_offset, region.size), READ_CHUNK, scanner.overlap):
            data = layer.read(plan.read_start, plan.read_end - plan.read_start, pad=True)
            candidates.extend(scanner.scan_window(Window(data, plan.read_start, plan.owned_end)))
    proven = pipeline.prove_all(candidates)
    name = layer.name
    return build_findings(name, "volatility3-layer", regions, proven, pipeline.known.lookup)


def mapped_runs(layer: Any) -> list[tuple[int, int]]:
    """The layer's valid address ranges, merged where they touch."""
    runs: list[tuple[int, int]] = []
    for offset, length, *_ in layer.mapping(0, layer.maximum_address + 1, ignore_errors=True):
        if runs and runs[-1][0] + runs[-1][1] == offset:
            runs[-1] = (runs[-1][0], runs[-1][1] + length)
        else:
            runs.append((offset, length))
    return runs
