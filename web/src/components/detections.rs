//! Detection boxes (and keypoints) over the input image. Boxes are in
//! source-image pixels; the letterbox maps them into the model input.

use std::rc::Rc;

use yew::prelude::*;

use crate::proto::Detection;

#[derive(Properties, PartialEq)]
pub struct DetectionsProps {
    pub detections: Rc<Vec<Detection>>,
    /// `preprocess::Letterbox` of the image into the model input.
    pub scale: f32,
    pub pad_x: f32,
    pub pad_y: f32,
    #[prop_or("detections")]
    pub testid: &'static str,
}

#[component]
pub fn Detections(props: &DetectionsProps) -> Html {
    let m = |x: f32, y: f32| (x * props.scale + props.pad_x, y * props.scale + props.pad_y);
    html! {
        <g class="detections" data-testid={props.testid} data-count={props.detections.len().to_string()}>
            { for props.detections.iter().map(|d| {
                let (x0, y0) = m(d.xmin, d.ymin);
                let (x1, y1) = m(d.xmax, d.ymax);
                html! {
                    <g class="detection">
                        <rect x={x0.to_string()} y={y0.to_string()} width={(x1 - x0).to_string()} height={(y1 - y0).to_string()} />
                        { for d.keypoints.iter().map(|&(kx, ky)| { let (px, py) = m(kx, ky); html! {
                            <circle cx={px.to_string()} cy={py.to_string()} r="1.2" />
                        } }) }
                        <text x={x0.to_string()} y={(y0 - 1.5).max(4.0).to_string()}>{ format!("{:.0} %", d.score * 100.0) }</text>
                    </g>
                }
            }) }
        </g>
    }
}
