import { z } from 'zod';

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour as #rrggbb');
const margin = (value: number) => z.number().min(0).max(216).default(value);

/** A template's look; every field has a default, so `{}` is a valid style. Lengths in points. */
export const templateStylesSchema = z.object({
  pageSize: z.enum(['A4', 'LETTER']).default('A4'),
  margins: z
    .object({ top: margin(72), right: margin(60), bottom: margin(72), left: margin(60) })
    .prefault({}),
  fontFamily: z.enum(['sans', 'serif']).default('sans'),
  baseFontSize: z.number().min(6).max(24).default(10.5),
  lineHeight: z.number().min(1).max(3).default(1.4),
  headingColor: color.default('#1f2937'),
  textColor: color.default('#111827'),
  linkColor: color.default('#1d4ed8'),
  mutedColor: color.default('#6b7280'),
  tableOfContents: z.boolean().default(true),
  documentBreak: z.enum(['page', 'continuous']).default('page'),
});

export type TemplateStyles = z.output<typeof templateStylesSchema>;
/** What a tenant stores: any subset of the styles, the rest defaulted. */
export type TemplateStylesInput = z.input<typeof templateStylesSchema>;
