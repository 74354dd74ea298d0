"""Skips one Java object serialization stream (Java Object Serialization
Specification, chapter 6 "Object Serialization Stream Protocol").

JCEKS stores a secret-key entry as an ObjectOutputStream written straight into
the keystore, with no length in front (com.sun.crypto.provider.JceKeyStore:
a SealedObjectForKeyProtector).  The only way past it is to walk the grammar:
this reader knows just what such a stream holds (class descriptors, objects,
strings, arrays, block data, back references) and measures it, never looking
past its limit and never nesting deeper than `_MAX_DEPTH`.  It builds no
objects and reads no values but lengths and type codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scanner.detectors.fields import FieldReader

STREAM_MAGIC = b"\xac\xed\x00\x05"  # STREAM_MAGIC 0xACED, STREAM_VERSION 5
_BASE_HANDLE = 0x7E0000  # baseWireHandle

TC_NULL, TC_REFERENCE, TC_CLASSDESC, TC_OBJECT = 0x70, 0x71, 0x72, 0x73
TC_STRING, TC_ARRAY, TC_CLASS, TC_BLOCKDATA = 0x74, 0x75, 0x76, 0x77
TC_ENDBLOCKDATA, TC_RESET, TC_BLOCKDATALONG = 0x78, 0x79, 0x7A
TC_LONGSTRING, TC_PROXYCLASSDESC, TC_ENUM = 0x7C, 0x7D, 0x7E
SC_WRITE_METHOD, SC_SERIALIZABLE, SC_BLOCK_DATA = 0x01, 0x02, 0x08

# Field type codes (spec 6.4.2 prim_typecode / obj_typecode) -> value bytes; 0: an object.
_FIELD_BYTES = {
    ord("B"): 1,
    ord("C"): 2,
    ord("D"): 8,
    ord("F"): 4,
    ord("I"): 4,
    ord("J"): 8,
    ord("S"): 2,
    ord("Z"): 1,
    ord("["): 0,
    ord("L"): 0,
}
_MAX_DEPTH = 32
_MAX_FIELDS = 256


class SerializationError(Exception):
    """Bytes that are not a serialization stream this reader understands."""


@dataclass
class _ClassDesc:
    """What reading an instance needs: its field type codes, flags and superclass."""

    name: bytes
    flags: int
    field_codes: list[int]
    superclass: _ClassDesc | None


class _Reader(FieldReader):
    """Bounded reads, and the objects back references (spec 6.4.1 newHandle) may name."""

    error = SerializationError

    def __init__(self, data: bytes, offset: int, limit: int) -> None:
        super().__init__(data, offset, limit)
        self.handles: list[object] = []

    def utf(self) -> bytes:
        return self.take(self.big_endian(2))

    def new_handle(self, value: object) -> None:
        self.handles.append(value)

    def handle(self) -> object:
        index = self.big_endian(4) - _BASE_HANDLE
        if not 0 <= index < len(self.handles):
            raise SerializationError(f"bad back reference at offset {self.position - 4}")
        return self.handles[index]


def serialization_stream_end(data: bytes, offset: int, limit: int) -> int:
    """End offset of the stream of one top-level object at `offset`."""
    reader = _Reader(data, offset, limit)
    if reader.take(len(STREAM_MAGIC)) != STREAM_MAGIC:
        raise SerializationError(f"no serialization stream at offset {offset}")
    _content(reader, 0)
    return reader.position


def _content(reader: _Reader, depth: int) -> object:
    """One `content` of the grammar; returns what a back reference to it may need."""
    if depth > _MAX_DEPTH:
        raise SerializationError(f"nesting too deep at offset {reader.position}")
    code = reader.big_endian(1)
    if code == TC_NULL:
        return None
    if code == TC_REFERENCE:
        return reader.handle()
    if code in (TC_CLASSDESC, TC_PROXYCLASSDESC):
        reader.position -= 1
        return _class_desc(reader, depth)
    if code in (TC_STRING, TC_LONGSTRING):
        return _string(reader, code)
    read_other = _OTHER_CONTENT.get(code)
    if read_other is None:
        raise SerializationError(f"unsupported type code at offset {reader.position - 1}")
    read_other(reader, depth)
    return None


def _class(reader: _Reader, depth: int) -> None:
    """newClass: TC_CLASS classDesc newHandle."""
    _class_desc(reader, depth + 1)
    reader.new_handle(None)


def _enum(reader: _Reader, depth: int) -> None:
    """newEnum: TC_ENUM classDesc newHandle enumConstantName."""
    _class(reader, depth)
    _content(reader, depth + 1)


def _string(reader: _Reader, code: int) -> bytes:
    value = reader.take(reader.big_endian(8 if code == TC_LONGSTRING else 2))
    reader.new_handle(value)
    return value


def _class_desc(reader: _Reader, depth: int) -> _ClassDesc | None:
    """classDesc: TC_CLASSDESC ..., TC_PROXYCLASSDESC ..., TC_NULL or a reference."""
    code = reader.big_endian(1)
    if code == TC_NULL:
        return None
    if code == TC_REFERENCE:
        described = reader.handle()
        if not isinstance(described, _ClassDesc):
            raise SerializationError(f"reference to a non-class at offset {reader.position}")
        return described
    if code == TC_PROXYCLASSDESC:
        reader.new_handle(None)
        for _ in range(reader.big_endian(4)):
            reader.utf()
        return _finish_class_desc(reader, _ClassDesc(b"$Proxy", SC_SERIALIZABLE, [], None), depth)
    if code != TC_CLASSDESC:
        raise SerializationError(f"expected a class descriptor at offset {reader.position - 1}")
    name = reader.utf()
    reader.take(8)  # serialVersionUID
    desc = _ClassDesc(name, 0, [], None)
    reader.new_handle(desc)
    desc.flags = reader.big_endian(1)
    field_count = reader.big_endian(2)
    if field_count > _MAX_FIELDS:
        raise SerializationError(f"implausible field count at offset {reader.position - 2}")
    for _ in range(field_count):
        desc.field_codes.append(_field_desc(reader, depth))
    return _finish_class_desc(reader, desc, depth)


def _field_desc(reader: _Reader, depth: int) -> int:
    code = reader.big_endian(1)
    if code not in _FIELD_BYTES:
        raise SerializationError(f"unknown field type at offset {reader.position - 1}")
    reader.utf()  # fieldName
    if _FIELD_BYTES[code] == 0:
        _content(reader, depth + 1)  # className1: a String or a reference to one
    return code


def _finish_class_desc(reader: _Reader, desc: _ClassDesc, depth: int) -> _ClassDesc:
    _annotation(reader, depth)  # classAnnotation
    desc.superclass = _class_desc(reader, depth + 1)
    return desc


def _annotation(reader: _Reader, depth: int) -> None:
    """Block data and objects up to TC_ENDBLOCKDATA."""
    while True:
        code = reader.data[reader.position] if reader.position < reader.limit else None
        if code == TC_ENDBLOCKDATA:
            reader.position += 1
            return
        if code == TC_BLOCKDATA:
            reader.position += 1
            reader.take(reader.big_endian(1))
        elif code == TC_BLOCKDATALONG:
            reader.position += 1
            reader.take(reader.big_endian(4))
        else:
            _content(reader, depth + 1)


def _object(reader: _Reader, depth: int) -> None:
    desc = _class_desc(reader, depth + 1)
    if desc is None:
        raise SerializationError(f"object without a class at offset {reader.position}")
    reader.new_handle(None)
    hierarchy: list[_ClassDesc] = []
    current: _ClassDesc | None = desc
    while current is not None and len(hierarchy) <= _MAX_DEPTH:
        hierarchy.append(current)
        current = current.superclass
    for described in reversed(hierarchy):  # classdata: superclass first (spec 6.4.2)
        _class_data(reader, described, depth)


def _class_data(reader: _Reader, desc: _ClassDesc, depth: int) -> None:
    if desc.flags & SC_SERIALIZABLE == 0:
        raise SerializationError("externalizable objects are not supported")
    for code in desc.field_codes:
        size = _FIELD_BYTES[code]
        if size:
            reader.take(size)
        else:
            _content(reader, depth + 1)
    if desc.flags & SC_WRITE_METHOD:
        _annotation(reader, depth)


def _array(reader: _Reader, depth: int) -> None:
    desc = _class_desc(reader, depth + 1)
    if desc is None or not desc.name.startswith(b"[") or len(desc.name) < 2:
        raise SerializationError(f"array without an array class at offset {reader.position}")
    reader.new_handle(None)
    length = reader.big_endian(4)
    element_code = desc.name[1]
    size = _FIELD_BYTES.get(element_code)
    if size is None:
        raise SerializationError(f"unknown array element type at offset {reader.position}")
    if size:
        reader.take(length * size)
        return
    if length > reader.limit - reader.position:  # every element takes at least one byte
        raise SerializationError(f"array runs past its bound at offset {reader.position}")
    for _ in range(length):
        _content(reader, depth + 1)


_OTHER_CONTENT: dict[int, Callable[[_Reader, int], None]] = {
    TC_OBJECT: _object,
    TC_ARRAY: _array,
    TC_CLASS: _class,
    TC_ENUM: _enum,
}
