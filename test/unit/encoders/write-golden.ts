/**
 * Regenerates the remote-write golden files through the independent route: protobufjs encodes the golden
 * request, snappyjs compresses it. Run: npx tsx test/unit/encoders/write-golden.ts
 */
import { compress } from 'snappyjs';
import { GOLDEN_WRITE_REQUEST } from './golden-requests.ts';
import { writeGoldenHex } from './golden.ts';
import { V1WriteRequest, V2Request, encodeWithProtobufjs, v1PlainObject, v2PlainObject } from './prompb.ts';

const v1 = encodeWithProtobufjs(V1WriteRequest, v1PlainObject(GOLDEN_WRITE_REQUEST));
writeGoldenHex('remote-write-v1.pb.hex', v1);
writeGoldenHex('remote-write-v1.snappy.hex', compress(v1));

const v2 = encodeWithProtobufjs(V2Request, v2PlainObject(GOLDEN_WRITE_REQUEST));
writeGoldenHex('remote-write-v2.pb.hex', v2);
writeGoldenHex('remote-write-v2.snappy.hex', compress(v2));
