"""A spec-exact HPROF writer for tests (JDK 6 era 4-byte ids, and 8-byte ids).

Built from the layout the JDK documents at the top of
src/jdk.hotspot.agent/share/classes/sun/jvm/hotspot/utilities/HeapHprofBinWriter.java
("JAVA PROFILE 1.0.2") and, for the Android sub-records, ART's
runtime/hprof/hprof.cc.  All numbers are big-endian; see scanner/formats/hprof.py
for the record and sub-record layouts.  The JVM on this machine writes 8-byte ids
only, so 4-byte-id dumps (32-bit JVMs, Android) come from here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

BASIC_FORMATS = {2: None, 4: ">B", 5: ">H", 6: ">f", 7: ">d", 8: ">b", 9: ">h", 10: ">i", 11: ">q"}
ELEMENT_SIZES = {4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
TYPE_NAMES = {
    4: "boolean",
    5: "char",
    6: "float",
    7: "double",
    8: "byte",
    9: "short",
    10: "int",
    11: "long",
}


@dataclass(frozen=True)
class WrittenArray:
    """A PRIM ARRAY DUMP the writer put in the file: where its element data lies."""

    array_id: int
    element_type: int
    data_offset: int
    data: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return f"{TYPE_NAMES[self.element_type]}[] @0x{self.array_id:x}"


class HprofWriter:
    """Appends records and sub-records; `arrays` lists every primitive array written."""

    def __init__(self, id_size: int, version: bytes = b"JAVA PROFILE 1.0.2") -> None:
        self.id_size = id_size
        self.out = bytearray(version + b"\0" + struct.pack(">III", id_size, 0x1A2, 0x3B4C5D6E))
        self.arrays: list[WrittenArray] = []
        self._segment_start: int | None = None

    def id(self, value: int) -> bytes:
        return value.to_bytes(self.id_size, "big")

    def record(self, tag: int, body: bytes) -> None:
        self.out += struct.pack(">BII", tag, 0, len(body)) + body

    def utf8(self, string_id: int, text: str) -> None:
        self.record(0x01, self.id(string_id) + text.encode())

    def load_class(self, serial: int, class_id: int, name_id: int) -> None:
        self.record(
            0x02, struct.pack(">I", serial) + self.id(class_id) + b"\0\0\0\0" + self.id(name_id)
        )

    def begin_segment(self, tag: int = 0x1C) -> None:
        """Start a HEAP DUMP (0x0C) or HEAP DUMP SEGMENT (0x1C); its length is patched at end."""
        self._segment_start = len(self.out)
        self.out += struct.pack(">BII", tag, 0, 0)

    def end_segment(self) -> None:
        assert self._segment_start is not None
        length = len(self.out) - self._segment_start - 9
        struct.pack_into(">I", self.out, self._segment_start + 5, length)
        self._segment_start = None

    def sub(self, tag: int, body: bytes) -> None:
        self.out += bytes([tag]) + body

    def every_root(self, object_id: int) -> None:
        """One sub-record of each root type, JDK and Android."""
        ids, u4 = self.id(object_id), struct.pack(">I", 7)
        self.sub(0xFF, ids)  # ROOT UNKNOWN
        self.sub(0x01, ids + self.id(0x99))  # ROOT JNI GLOBAL: id, JNI global ref id
        self.sub(0x02, ids + u4 + u4)  # ROOT JNI LOCAL: id, thread serial, frame
        self.sub(0x03, ids + u4 + u4)  # ROOT JAVA FRAME
        self.sub(0x04, ids + u4)  # ROOT NATIVE STACK: id, thread serial
        self.sub(0x05, ids)  # ROOT STICKY CLASS
        self.sub(0x06, ids + u4)  # ROOT THREAD BLOCK
        self.sub(0x07, ids)  # ROOT MONITOR USED
        self.sub(0x08, ids + u4 + u4)  # ROOT THREAD OBJECT: id, thread serial, trace serial

    def android_extras(self, object_id: int) -> None:
        ids, u4 = self.id(object_id), struct.pack(">I", 3)
        self.sub(0xFE, struct.pack(">I", ord("A")) + self.id(0x77))  # HEAP DUMP INFO
        for tag in (0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x90):  # id-only roots
            self.sub(tag, ids)
        self.sub(0x8E, ids + u4 + u4)  # ROOT JNI MONITOR
        # PRIMITIVE ARRAY NODATA: id, u4 trace, u4 count, u1 type, and no elements.
        self.sub(0xC3, ids + u4 + struct.pack(">IB", 1000, 8))

    def class_dump(self, class_id: int, super_id: int) -> None:
        """A CLASS DUMP with a value of every basic type in each of its tables."""
        body = self.id(class_id) + struct.pack(">I", 1)
        body += b"".join(self.id(v) for v in (super_id, 0, 0, 0, 0, 0))
        body += struct.pack(">I", 24)  # instance size
        types = sorted(BASIC_FORMATS)
        body += struct.pack(">H", len(types))  # constant pool
        for index, basic_type in enumerate(types):
            body += struct.pack(">HB", index, basic_type) + self.value(basic_type)
        body += struct.pack(">H", len(types))  # static fields
        for basic_type in types:
            body += self.id(0x500 + basic_type) + bytes([basic_type]) + self.value(basic_type)
        body += struct.pack(">H", len(types))  # instance fields: name and type only
        for basic_type in types:
            body += self.id(0x600 + basic_type) + bytes([basic_type])
        self.sub(0x20, body)

    def value(self, basic_type: int) -> bytes:
        value_format = BASIC_FORMATS[basic_type]
        return self.id(0x1234) if value_format is None else struct.pack(value_format, 1)

    def instance(self, object_id: int, class_id: int, fields: bytes) -> None:
        body = self.id(object_id) + struct.pack(">I", 1) + self.id(class_id)
        self.sub(0x21, body + struct.pack(">I", len(fields)) + fields)

    def object_array(self, array_id: int, class_id: int, element_ids: list[int]) -> None:
        body = self.id(array_id) + struct.pack(">II", 1, len(element_ids)) + self.id(class_id)
        self.sub(0x22, body + b"".join(self.id(e) for e in element_ids))

    def prim_array(self, array_id: int, element_type: int, data: bytes) -> None:
        """A PRIM ARRAY DUMP; `data` is the elements as stored (big-endian)."""
        count, remainder = divmod(len(data), ELEMENT_SIZES[element_type])
        assert remainder == 0
        head = self.id(array_id) + struct.pack(">IIB", 1, count, element_type)
        self.sub(0x23, head)
        self.arrays.append(WrittenArray(array_id, element_type, len(self.out), data))
        self.out += data


def sample_dump(id_size: int, version: bytes = b"JAVA PROFILE 1.0.2") -> HprofWriter:
    """A dump with every record and sub-record kind, arrays of every type and size class.

    Two heap dump records: a HEAP DUMP SEGMENT with roots, a class, instances and
    arrays, then (Android extras) a second segment; between them a string.
    """
    writer = HprofWriter(id_size, version)
    writer.utf8(0x10, "java.lang.String")
    writer.load_class(1, 0x100, 0x10)
    writer.record(0x05, struct.pack(">III", 1, 0, 0))  # STACK TRACE with no frames
    writer.begin_segment()
    writer.every_root(0x2000)
    writer.class_dump(0x100, 0x101)
    writer.instance(0x2000, 0x100, bytes(range(24)))
    writer.object_array(0x3000, 0x101, [0x2000, 0, 0x2000])
    for index, (element_type, size) in enumerate(
        [(8, 31), (8, 32), (5, 64), (10, 128), (11, 40), (4, 33), (6, 36), (7, 48), (9, 30)]
    ):
        writer.prim_array(
            0x4000 + 0x100 * index, element_type, bytes((index + n) % 251 for n in range(size))
        )
    writer.end_segment()
    writer.utf8(0x11, "between segments")
    writer.begin_segment()
    writer.android_extras(0x2000)
    writer.prim_array(0x9000, 8, b"\x5a" * 100)
    writer.prim_array(0x9100, 8, b"")
    writer.end_segment()
    writer.record(0x2C, b"")  # HEAP DUMP END
    return writer
