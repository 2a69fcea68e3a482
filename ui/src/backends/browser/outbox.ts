// The browser's outbox: chat messages (and new tasks) written offline or while
// the server is away wait here, in IndexedDB, and are sent in order, exactly
// once, when it answers.
//
// Delivery rules (the same as coup_core::client::outbox):
// - Every item gets its `clientId` when it is queued, stored with it, and sent
//   with every attempt; the server keeps one message per (study, author,
//   clientId) and answers a resend with the first one. So an attempt whose
//   answer was lost (the tab closed, the connection dropped) is simply made
//   again: the message exists once.
// - Items go out one at a time, oldest first; a transient failure (no answer,
//   429, 5xx) stops the flush and keeps the item pending for the next one
//   (reconnect, `online`, a new item); a refusal marks the item FAILED with the
//   server's code and reason and the flush goes on; `retry` makes it pending
//   again, `discard` drops it.
// - Tabs of one account share the outbox; a Web Lock lets one tab flush at a
//   time (and where Web Locks are missing, clientIds still keep it once).

import { BackendError } from "../../backend";
import type { NewTask, OutboxAction, OutboxItem, Sent } from "../../types";
import { errorCode, isTransient, type Api, unwrap } from "./rest";
import type { KeyValue } from "./store";

export interface OutboxHooks {
  pending(item: OutboxItem): void;
  sent(item: OutboxItem, result: Sent): void;
  failed(item: OutboxItem): void;
}

export function newClientId(): string {
  return `web-${crypto.randomUUID()}`;
}

export class Outbox {
  private flushing: Promise<void> | null = null;
  /** Counts flush requests, so a flush running when one comes looks again. */
  private requests = 0;

  constructor(
    private readonly kv: KeyValue,
    private readonly key: string,
    private readonly api: Api,
    private readonly hooks: OutboxHooks,
  ) {}

  async items(): Promise<OutboxItem[]> {
    return (await this.kv.get<OutboxItem[]>(this.key)) ?? [];
  }

  private async save(items: OutboxItem[]): Promise<void> {
    await this.kv.set(this.key, items);
  }

  async enqueue(action: OutboxAction): Promise<OutboxItem> {
    const items = await this.items();
    const item: OutboxItem = {
      id: items.reduce((max, i) => Math.max(max, i.id), 0) + 1,
      clientId: newClientId(),
      action,
      state: { state: "PENDING" },
      attempts: 0,
      createdAt: new Date().toISOString(),
    };
    await this.save([...items, item]);
    this.hooks.pending(item);
    void this.flush();
    return item;
  }

  async retry(id: number): Promise<void> {
    await this.update(id, (item) => ({ ...item, state: { state: "PENDING" } }));
    void this.flush();
  }

  async discard(id: number): Promise<void> {
    const items = await this.items();
    await this.save(items.filter((i) => i.id !== id));
  }

  private async update(id: number, change: (item: OutboxItem) => OutboxItem): Promise<OutboxItem | null> {
    const items = await this.items();
    const next = items.map((i) => (i.id === id ? change(i) : i));
    await this.save(next);
    return next.find((i) => i.id === id) ?? null;
  }

  /** Sends what is pending; concurrent calls join the running flush (and make
   * it look once more at the end, for items queued meanwhile). */
  flush(): Promise<void> {
    this.requests += 1;
    if (this.flushing) return this.flushing;
    const run = async (): Promise<void> => {
      let seen: number;
      do {
        seen = this.requests;
        await this.locked(() => this.flushOnce());
      } while (seen !== this.requests);
    };
    this.flushing = run().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async locked(work: () => Promise<void>): Promise<void> {
    if ("locks" in navigator) {
      await navigator.locks.request(`coup:${this.key}`, work);
    } else {
      await work();
    }
  }

  private async flushOnce(): Promise<void> {
    for (;;) {
      const next = (await this.items()).find((i) => i.state.state === "PENDING");
      if (!next) return;
      let result: Sent;
      try {
        result = await this.deliver(next.action, next.clientId);
      } catch (e) {
        const error = BackendError.from(e);
        if (isTransient(error)) {
          await this.update(next.id, (i) => ({ ...i, attempts: i.attempts + 1 }));
          return;
        }
        const failed = await this.update(next.id, (i) => ({
          ...i,
          attempts: i.attempts + 1,
          state: {
            state: "FAILED",
            code: errorCode(error.code, error.status),
            serverCode: error.code,
            message: error.message,
            reason: error.reason,
          },
        }));
        if (failed) this.hooks.failed(failed);
        continue;
      }
      const items = await this.items();
      await this.save(items.filter((i) => i.id !== next.id));
      this.hooks.sent({ ...next, attempts: next.attempts + 1 }, result);
    }
  }

  /** Sends one item; what the server answered, as the Rust client's `Sent`. */
  private async deliver(action: OutboxAction, clientId: string): Promise<Sent> {
    switch (action.type) {
      case "sendMessage": {
        const message = await unwrap(
          this.api.POST("/api/studies/{id}/chat", {
            params: { path: { id: action.studyId } },
            body: { content: action.content, fileId: action.fileId ?? null, clientId },
          }),
        );
        return { type: "message", message };
      }
      case "createTask": {
        const task = await unwrap(this.api.POST("/api/tasks", { body: { ...taskBody(action.task), clientId } }));
        return { type: "task", task };
      }
      default:
        return Promise.reject(new BackendError({ code: "VALIDATION", message: `the browser outbox does not send ${action.type}` }));
    }
  }
}

function taskBody(task: NewTask): Omit<NewTask, "clientId"> {
  return {
    title: task.title,
    description: task.description ?? null,
    dueAt: task.dueAt ?? null,
    priority: task.priority,
    studyId: task.studyId ?? null,
  };
}
