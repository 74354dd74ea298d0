"""Planted-key files: a background with structures written at odd offsets.

A raw file stands for a memory image with no structure a reader knows, so a
scan of it must find exactly the planted keys at exactly the stated offsets.
Offsets are odd on purpose: nothing in a dump promises alignment.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path

from samplegen.errors import SampleError
from samplegen.keys import KeyFact
from samplegen.manifest import PLANTED, Made, Placement

BACKGROUND_SIZE = 64 * 1024
TAIL_PADDING = 4_097
FIRST_OFFSET = 4_097  # odd
OFFSET_STEP = 2 * 1_013  # even: keeps every first offset odd
PLANT_SPACING = 9_000
# Fixed first bytes, so no random background can start with a container or dump magic
# (gzip 1f8b, "BZh", "PK\3\4", ELF, "MDMP", ...) and be read as something other than raw.
FILE_PREFIX = b"dumpguard planted sample\n\x00\x00\x00\x00\x00\x00\x00"
LOG_LINES = (
    b"2024-05-01T12:00:00Z INFO  worker[4242]: request handled in 12 ms path=/api/v1/items\n",
    b"2024-05-01T12:00:01Z DEBUG cache: hit ratio 0.93 evictions=17 size=1048576\n",
    b"2024-05-01T12:00:02Z WARN  tls: session ticket key rotated, 3 listeners reloaded\n",
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n",
)


class Background(enum.Enum):
    RANDOM = "random"
    ZEROS = "zeros"
    TEXT = "text"


def background_bytes(background: Background, size: int) -> bytearray:
    if background is Background.RANDOM:
        filler = bytearray(os.urandom(size))
    elif background is Background.ZEROS:
        filler = bytearray(size)
    else:
        text = b"".join(LOG_LINES)
        filler = bytearray((text * (size // len(text) + 1))[:size])
    filler[: len(FILE_PREFIX)] = FILE_PREFIX
    return filler


@dataclass(frozen=True)
class Plant:
    """Bytes to write; the structure a scan reports starts `anchor` bytes into them.

    fact: what a scan reports for it, or None for a planted false positive.
    also: more findings in the same bytes, as (anchor, fact): the keys of a JWKS
    (each at its own object, an even distance from `anchor` so it stays odd), the
    private key inside a keystore (at the store's anchor).
    """

    data: bytes = field(repr=False)
    fact: KeyFact | None
    anchor: int = 0
    also: tuple[tuple[int, KeyFact], ...] = ()

    def facts(self) -> list[tuple[int, KeyFact]]:
        """Every (anchor, fact) a scan reports in these bytes."""
        main = [(self.anchor, self.fact)] if self.fact is not None else []
        return main + list(self.also)


@dataclass(frozen=True)
class PlantedFile:
    name: str
    description: str
    background: Background
    plants: tuple[Plant, ...]


def plant_offsets(file_index: int, plants: tuple[Plant, ...]) -> list[int]:
    """Where each plant's bytes start, chosen so each structure (data + anchor) starts odd."""
    structure_offset = FIRST_OFFSET + OFFSET_STEP * (file_index % 7)
    offsets = []
    for plant in plants:
        offsets.append(structure_offset - plant.anchor)
        structure_offset += len(plant.data) + PLANT_SPACING
        structure_offset |= 1  # stay odd
    return offsets


def write_planted(spec: PlantedFile, file_index: int, planted_dir: Path, out_dir: Path) -> Made:
    offsets = plant_offsets(file_index, spec.plants)
    end = max(offset + len(plant.data) for offset, plant in zip(offsets, spec.plants, strict=True))
    content = background_bytes(spec.background, max(BACKGROUND_SIZE, end + TAIL_PADDING))
    path = planted_dir / spec.name
    display_path = path.relative_to(out_dir).as_posix()
    placements = []
    for offset, plant in zip(offsets, spec.plants, strict=True):
        content[offset : offset + len(plant.data)] = plant.data
        for anchor, fact in plant.facts():
            if (anchor - plant.anchor) % 2:
                raise SampleError(f"{spec.name}: a structure would start at an even offset")
            placements.append(Placement(display_path, offset + anchor, fact))
    path.write_bytes(content)
    return Made(display_path, PLANTED, spec.description, tuple(placements))


def write_all(specs: list[PlantedFile], out_dir: Path) -> list[Made]:
    planted_dir = out_dir / "planted"
    planted_dir.mkdir()
    return [write_planted(spec, index, planted_dir, out_dir) for index, spec in enumerate(specs)]
