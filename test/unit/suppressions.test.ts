/** A suppression matches an alert of its detector whose fields all equal its own, while it is active. */
import { suppresses } from '../../alerts/suppressions';
import type { Alert, Suppression } from '../../core/records';

const NOW = Date.parse('2026-12-01T12:00:00Z');

const alert = (o: Partial<Alert> = {}): Alert => ({
  alert_id: '00000000-0000-4000-8000-000000000001', fingerprint: 'f', detector: 'scan', severity: 'warning', state: 'firing', time: NOW, first_seen: NOW,
  last_seen: NOW, raised_at: NOW, summary: '', src_node: 'gpu012', src_addr: '10.30.1.12', src_zone: 'training', dst_port: 22, bytes: 0, flows: 1, evidence: '', updated_at: NOW, ...o,
});

const suppression = (o: Partial<Suppression> = {}): Suppression => ({
  suppression_id: '00000000-0000-4000-8000-0000000000aa', detector: 'scan', src_node: 'gpu012', reason: 'pentest', created_by: 'soc',
  created_at: NOW - 1000, expires_at: NOW + 3600e3, updated_at: NOW - 1000, ...o,
});

describe('suppression matching', () => {
  it('matches on the detector and every field it names, addresses in either form', () => {
    expect(suppresses(suppression(), alert(), NOW)).toBe(true);
    expect(suppresses(suppression({ dst_port: 22, src_addr: '::ffff:10.30.1.12' }), alert(), NOW)).toBe(true);
    expect(suppresses(suppression({ detector: 'new-destination' }), alert(), NOW)).toBe(false);
    expect(suppresses(suppression({ src_node: 'gpu013' }), alert(), NOW)).toBe(false);
    expect(suppresses(suppression({ dst_port: 2222 }), alert(), NOW)).toBe(false);
    expect(suppresses(suppression({ dst_node: 'gpu031' }), alert(), NOW)).toBe(false); // the alert names no destination node
  });

  it('holds nothing once expired or revoked', () => {
    expect(suppresses(suppression({ expires_at: NOW }), alert(), NOW)).toBe(false);
    expect(suppresses(suppression({ revoked_at: NOW - 1, revoked_by: 'soc' }), alert(), NOW)).toBe(false);
  });
});
