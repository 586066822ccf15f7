/** Statement settings moved into the statement's SETTINGS clause, for embedded chDB's one long session. */
import { withStatementSettings } from '../../core/chdb-settings';

describe('withStatementSettings', () => {
  it('puts the settings before an insert\'s or a query\'s trailing FORMAT', () => {
    expect(withStatementSettings('INSERT INTO `eastwatch`.`flows` FORMAT JSONEachRow', { insert_deduplicate: 1, insert_deduplication_token: 'g:t:0:1-9' }).query)
      .toBe("INSERT INTO `eastwatch`.`flows` SETTINGS insert_deduplicate = 1, insert_deduplication_token = 'g:t:0:1-9' FORMAT JSONEachRow");
    expect(withStatementSettings('SELECT 1 \nFORMAT JSONEachRow', { readonly: '1' }).query).toBe("SELECT 1 SETTINGS readonly = '1' \nFORMAT JSONEachRow");
  });

  it('appends them to a statement without FORMAT, and leaves a statement without settings alone', () => {
    expect(withStatementSettings('OPTIMIZE TABLE t FINAL', { mutations_sync: true }).query).toBe('OPTIMIZE TABLE t FINAL SETTINGS mutations_sync = 1');
    expect(withStatementSettings('SELECT 1', {})).toEqual({ query: 'SELECT 1', rest: {} });
    expect(withStatementSettings('SELECT 1', undefined)).toEqual({ query: 'SELECT 1', rest: {} });
  });

  it('quotes string values as ClickHouse reads them, so a value cannot end its literal', () => {
    expect(withStatementSettings('SELECT 1', { log_comment: "it's \\' here" }).query).toBe("SELECT 1 SETTINGS log_comment = 'it''s \\\\'' here'");
  });

  it('leaves to chDB what it drops or maps itself, and refuses a name that is not a setting', () => {
    expect(withStatementSettings('SELECT 1', { default_format: 'CSV', wait_end_of_query: 1 })).toEqual({ query: 'SELECT 1', rest: { default_format: 'CSV', wait_end_of_query: 1 } });
    expect(() => withStatementSettings('SELECT 1', { 'x = 1; DROP TABLE t; --': 1 })).toThrow(/not a ClickHouse setting name/);
  });
});
