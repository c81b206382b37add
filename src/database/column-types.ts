import { ValueTransformer } from 'typeorm';

/** BIGINT comes back from mysql2 as a string; the relay keeps epoch milliseconds as numbers. */
export const bigintNumber: ValueTransformer = {
  to: (value?: number | null) => value,
  from: (value?: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};

/** MySQL stores booleans as TINYINT(1); SQLite as 0/1. Both come back as booleans. */
export const booleanColumn: ValueTransformer = {
  to: (value?: boolean | null) => value,
  from: (value?: number | boolean | null) => (value === null || value === undefined ? value : Boolean(value)),
};
