/** A dataset destination in memory, recording the order sinks open and close. */
import type {DatasetDestination} from '../../shared/storage/destination.js';
import type {DatasetFileKind} from '../../shared/dataset/object-names.js';
import type {ByteSink} from '../../shared/storage/sinks/sink.js';
import {MemorySink} from './memory-sink.js';

export class MemoryDestination implements DatasetDestination {
  readonly files = new Map<string, MemorySink>();
  readonly events: string[] = [];

  async open(kind: DatasetFileKind, name: string): Promise<ByteSink> {
    const sink = new MemorySink();
    const events = this.events;
    this.files.set(name, sink);
    events.push(`open ${kind}`);
    return {
      write: chunk => sink.write(chunk),
      close: async () => {
        await sink.close();
        events.push(`close ${kind}`);
      },
      abort: async reason => {
        await sink.abort();
        events.push(`abort ${kind}`);
        void reason;
      },
    };
  }

  bytes(name: string): Buffer {
    const sink = this.files.get(name);
    if (!sink) throw new Error(`no file ${name}`);
    return sink.bytes();
  }
}
