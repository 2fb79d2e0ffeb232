/**
 * Reads the track handler types of an MP4 ("vide", "soun") by walking its boxes:
 * moov → trak → mdia → hdlr. Enough to tell whether a file has an audio stream, without ffprobe.
 */
export function mp4TrackTypes(buf: Buffer): string[] {
  const types: string[] = [];
  const walk = (start: number, end: number) => {
    let at = start;
    while (at + 8 <= end) {
      let size = buf.readUInt32BE(at);
      const type = buf.toString("latin1", at + 4, at + 8);
      let header = 8;
      if (size === 1) {
        size = Number(buf.readBigUInt64BE(at + 8));
        header = 16;
      } else if (size === 0) size = end - at;
      if (size < header || at + size > end) return;
      if (type === "moov" || type === "trak" || type === "mdia") walk(at + header, at + size);
      // hdlr: version/flags (4) + pre_defined (4), then the handler type.
      if (type === "hdlr") types.push(buf.toString("latin1", at + header + 8, at + header + 12));
      at += size;
    }
  };
  walk(0, buf.length);
  return types;
}
