/** The words and colour class the status bar shows for a WebSocket state. */
import type { WsStatus } from './ws';

export interface StatusLabel {
  text: string;
  tone: 'ok' | 'warn' | 'bad' | 'idle';
}

export function wsLabel(status: WsStatus): StatusLabel {
  switch (status.state) {
    case 'open':
      return { text: 'connected', tone: 'ok' };
    case 'connecting':
      return { text: 'connecting', tone: 'warn' };
    case 'reconnecting':
      return { text: `reconnecting (attempt ${status.attempt})`, tone: 'warn' };
    case 'closed':
      return { text: 'disconnected', tone: 'bad' };
    case 'idle':
      return { text: 'not started', tone: 'idle' };
  }
}
