/** A labelled <select>; an empty `placeholder` option stands for "any". */
import { useId } from 'react';

interface PickerProps {
  label: string;
  value: string;
  choices: readonly string[];
  onChange: (value: string) => void;
  placeholder?: string;
}

export function Picker({ label, value, choices, onChange, placeholder }: PickerProps) {
  const id = useId();
  // Keep the current value selectable even before the options list includes it.
  const shown = value === '' || choices.includes(value) ? choices : [value, ...choices];
  return (
    <label className="picker" htmlFor={id}>
      <span>{label}</span>
      <select
        id={id}
        value={value}
        onChange={(event) => {
          onChange(event.target.value);
        }}
      >
        {placeholder === undefined ? null : <option value="">{placeholder}</option>}
        {shown.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    </label>
  );
}
